package dev.chainsocks.udp;

import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * One UDP listener as {@code status} and the metrics endpoint show it.
 *
 * @param listen         its address
 * @param activeFlows    flows open now (associating or relaying)
 * @param maxFlows       the size of its flow table
 * @param flowsStarted   flows whose association opened since start
 * @param flowsFailed    flows that never got an association
 * @param flowsEvicted   flows closed to make room for a new one
 * @param datagramsUp    datagrams sent on to a relay
 * @param datagramsDown  datagrams sent back to clients
 * @param dropped        datagrams dropped: cut short, queue full while associating, not from the flow's destination
 * @param destination    {@code lookup = "fixed"}: where every datagram goes; empty for tproxy
 */
public record UdpListenerStatus(InetSocketAddress listen, int activeFlows, int maxFlows, long flowsStarted,
                                long flowsFailed, long flowsEvicted, long datagramsUp, long datagramsDown,
                                long dropped, Optional<InetSocketAddress> destination) {

    /** A TPROXY listener's. */
    public UdpListenerStatus(InetSocketAddress listen, int activeFlows, int maxFlows, long flowsStarted,
                             long flowsFailed, long flowsEvicted, long datagramsUp, long datagramsDown, long dropped) {
        this(listen, activeFlows, maxFlows, flowsStarted, flowsFailed, flowsEvicted, datagramsUp, datagramsDown,
                dropped, Optional.empty());
    }
}
