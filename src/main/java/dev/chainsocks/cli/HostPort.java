package dev.chainsocks.cli;

import dev.chainsocks.config.ListenerConfig;
import java.net.InetSocketAddress;
import picocli.CommandLine;

/** Listen addresses on the command line, in the config file's syntax: {@code 127.0.0.1:1080}, {@code [::1]:1080}. */
final class HostPort implements CommandLine.ITypeConverter<InetSocketAddress> {

    @Override
    public InetSocketAddress convert(String value) {
        try {
            return ListenerConfig.parseAddress(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
