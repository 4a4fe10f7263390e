/*
 * Load generator for native-scripts/benchmarks/run.sh (the "relay" section): fast enough that the redirector under
 * test, not the client, sets the figures. Compiled by run.sh with gcc; Linux only; plain TCP to IPv4 addresses.
 *
 *   loadgen source   IP:PORT SECONDS LIFETIME   per connection: send zeros for SECONDS, then close
 *   loadgen sink     IP:PORT LIFETIME           per connection: read and discard until EOF, then close
 *   loadgen echo     IP:PORT LIFETIME           per connection: echo until EOF (epoll, one thread)
 *   loadgen download IP:PORT STREAMS DEADLINE   STREAMS connections read to EOF from a source
 *                                               prints "bytes seconds MB/s cpu_ms"
 *   loadgen upload   IP:PORT STREAMS SECONDS DEADLINE
 *                                               STREAMS connections send zeros for SECONDS to a sink, then shut
 *                                               down and wait for its close; prints "bytes seconds MB/s cpu_ms"
 *   loadgen cps      IP:PORT COUNT CONCURRENCY DEADLINE
 *                                               COUNT short connections, CONCURRENCY at a time: connect, send 16
 *                                               bytes, read them back, close; prints
 *                                               "ok failed seconds conn/s p50_ms p99_ms cpu_ms" (time to first
 *                                               byte of the echo, from the start of the connect; cpu_ms is this
 *                                               client's own CPU time)
 *   loadgen hold     IP:PORT COUNT HOLD DEADLINE
 *                                               COUNT idle connections: each connects, sends one byte and reads
 *                                               it back (at most 200 connects in flight); prints "held OK FAILED"
 *                                               once every connection is done or DEADLINE has passed, then keeps
 *                                               them open until HOLD seconds have passed or SIGTERM, and closes
 *                                               them all
 *
 * Servers end by themselves after LIFETIME seconds (run.sh stops them by PID before that). Clients end at their
 * DEADLINE in seconds whatever happens.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1 << 20)

static double own_cpu_ms(void);
#define MAX_STREAMS 64

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

static struct sockaddr_in parse_address(const char *text) {
    struct sockaddr_in address = {.sin_family = AF_INET};
    char host[64];
    const char *colon = strrchr(text, ':');
    if (colon == NULL || (size_t)(colon - text) >= sizeof host) {
        fprintf(stderr, "bad address %s (want IP:PORT)\n", text);
        exit(2);
    }
    memcpy(host, text, colon - text);
    host[colon - text] = 0;
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) {
        fprintf(stderr, "bad IPv4 address %s\n", host);
        exit(2);
    }
    address.sin_port = htons(atoi(colon + 1));
    return address;
}

static void raise_fd_limit(void) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

static int listen_on(const char *text) {
    struct sockaddr_in address = parse_address(text);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    if (fd < 0) die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0) die("bind");
    if (listen(fd, 4096) != 0) die("listen");
    return fd;
}

static void *lifetime_guard(void *seconds) {
    sleep(*(int *)seconds);
    exit(0);
}

static void start_lifetime_guard(int *seconds) {
    pthread_t thread;
    pthread_create(&thread, NULL, lifetime_guard, seconds);
    pthread_detach(thread);
}

/* ---------------------------------------------------------------------------------------------- source, sink */

static double source_seconds;

static void *serve_source(void *arg) {
    int fd = (int)(intptr_t)arg;
    char *zeros = calloc(1, CHUNK);
    double end = now() + source_seconds;
    while (now() < end) {
        if (send(fd, zeros, CHUNK, MSG_NOSIGNAL) < 0) break;
    }
    free(zeros);
    close(fd);
    return NULL;
}

static void *serve_sink(void *arg) {
    int fd = (int)(intptr_t)arg;
    char *buffer = malloc(CHUNK);
    while (recv(fd, buffer, CHUNK, 0) > 0) {
    }
    free(buffer);
    close(fd);
    return NULL;
}

static void accept_forever(int listener, void *(*serve)(void *)) {
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE) continue;
            die("accept");
        }
        pthread_t thread;
        if (pthread_create(&thread, NULL, serve, (void *)(intptr_t)fd) != 0) {
            close(fd);
            continue;
        }
        pthread_detach(thread);
    }
}

/* ---------------------------------------------------------------------------------------------------- echo */

static void echo_server(int listener) {
    int epoll = epoll_create1(0);
    struct epoll_event event = {.events = EPOLLIN, .data.fd = listener};
    char buffer[65536];
    fcntl(listener, F_SETFL, O_NONBLOCK);
    epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);
    for (;;) {
        struct epoll_event ready[256];
        int n = epoll_wait(epoll, ready, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = ready[i].data.fd;
            if (fd == listener) {
                int client;
                while ((client = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    struct epoll_event in = {.events = EPOLLIN, .data.fd = client};
                    epoll_ctl(epoll, EPOLL_CTL_ADD, client, &in);
                }
                continue;
            }
            ssize_t got = recv(fd, buffer, sizeof buffer, 0);
            if (got > 0) {
                /* small messages: the send buffer always has room, a short send is treated as the end */
                if (send(fd, buffer, got, MSG_NOSIGNAL) == got) continue;
            } else if (got < 0 && errno == EAGAIN) {
                continue;
            }
            close(fd);
        }
    }
}

/* ------------------------------------------------------------------------------------------ download, upload */

struct stream {
    struct sockaddr_in to;
    double deadline;
    double upload_seconds; /* 0: download */
    long long bytes;
    double first;
    double last;
    int failed;
};

static void *run_stream(void *arg) {
    struct stream *s = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval timeout = {.tv_sec = 2};
    char *buffer = calloc(1, CHUNK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (connect(fd, (struct sockaddr *)&s->to, sizeof s->to) != 0) {
        s->failed = 1;
        goto out;
    }
    if (s->upload_seconds > 0) {
        s->first = now();
        double end = s->first + s->upload_seconds;
        while (now() < end && now() < s->deadline) {
            ssize_t n = send(fd, buffer, CHUNK, MSG_NOSIGNAL);
            if (n <= 0) {
                if (n < 0 && errno == EAGAIN) continue;
                s->failed = 1;
                break;
            }
            s->bytes += n;
        }
        shutdown(fd, SHUT_WR);
        while (now() < s->deadline && recv(fd, buffer, CHUNK, 0) > 0) {
        }
        s->last = now();
    } else {
        while (now() < s->deadline) {
            ssize_t n = recv(fd, buffer, CHUNK, 0);
            if (n == 0) break;
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) continue;
                s->failed = 1;
                break;
            }
            if (s->bytes == 0) s->first = now();
            s->bytes += n;
        }
        s->last = now();
    }
out:
    free(buffer);
    close(fd);
    return NULL;
}

static int streams(const char *to, int count, double upload_seconds, double deadline_seconds) {
    struct stream s[MAX_STREAMS];
    pthread_t threads[MAX_STREAMS];
    if (count < 1 || count > MAX_STREAMS) {
        fprintf(stderr, "streams: 1..%d\n", MAX_STREAMS);
        return 2;
    }
    double deadline = now() + deadline_seconds;
    for (int i = 0; i < count; i++) {
        s[i] = (struct stream){.to = parse_address(to), .deadline = deadline, .upload_seconds = upload_seconds};
        pthread_create(&threads[i], NULL, run_stream, &s[i]);
    }
    long long bytes = 0;
    double first = 0, last = 0;
    int failed = 0;
    for (int i = 0; i < count; i++) {
        pthread_join(threads[i], NULL);
        bytes += s[i].bytes;
        failed += s[i].failed;
        if (s[i].bytes > 0 && (first == 0 || s[i].first < first)) first = s[i].first;
        if (s[i].last > last) last = s[i].last;
    }
    double seconds = last > first ? last - first : 0;
    printf("%lld %.3f %.1f %.0f\n", bytes, seconds, seconds > 0 ? bytes / seconds / 1e6 : 0.0, own_cpu_ms());
    if (failed) fprintf(stderr, "%d stream(s) failed\n", failed);
    return failed ? 1 : 0;
}

/* ------------------------------------------------------------------------------------------------------- cps */

struct connection {
    int fd;
    int got;
    double started;
    double first_byte;
};

/* This process's own CPU time (user + system), in milliseconds. */
static double own_cpu_ms(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec * 1e3 + usage.ru_utime.tv_usec / 1e3 + usage.ru_stime.tv_sec * 1e3
           + usage.ru_stime.tv_usec / 1e3;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cps(const char *to, int count, int concurrency, double deadline_seconds) {
    struct sockaddr_in address = parse_address(to);
    int epoll = epoll_create1(0);
    struct connection *slots = calloc(concurrency, sizeof *slots);
    double *latencies = calloc(count, sizeof *latencies);
    static const char message[16] = "0123456789abcdef";
    int started = 0, ok = 0, failed = 0, active = 0;
    double begin = now(), deadline = begin + deadline_seconds;

    for (int i = 0; i < concurrency; i++) slots[i].fd = -1;
    for (;;) {
        for (int i = 0; i < concurrency && started < count; i++) {
            if (slots[i].fd >= 0) continue;
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            if (fd < 0) die("socket");
            slots[i] = (struct connection){.fd = fd, .started = now()};
            started++;
            active++;
            if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0 && errno != EINPROGRESS) {
                failed++;
                close(fd);
                slots[i].fd = -1;
                active--;
                continue;
            }
            struct epoll_event event = {.events = EPOLLOUT, .data.u32 = i};
            epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
        }
        if (active == 0 || now() > deadline) break;
        struct epoll_event ready[256];
        int n = epoll_wait(epoll, ready, 256, 100);
        for (int k = 0; k < n; k++) {
            struct connection *c = &slots[ready[k].data.u32];
            int done = 0, bad = 0;
            if (ready[k].events & (EPOLLERR | EPOLLHUP)) {
                bad = 1;
            } else if (ready[k].events & EPOLLOUT) {
                if (send(c->fd, message, sizeof message, MSG_NOSIGNAL) != sizeof message) {
                    bad = 1;
                } else {
                    struct epoll_event in = {.events = EPOLLIN, .data.u32 = ready[k].data.u32};
                    epoll_ctl(epoll, EPOLL_CTL_MOD, c->fd, &in);
                }
            } else if (ready[k].events & EPOLLIN) {
                char buffer[64];
                ssize_t got = recv(c->fd, buffer, sizeof buffer, 0);
                if (got <= 0) {
                    bad = got < 0 && errno == EAGAIN ? 0 : 1;
                } else {
                    if (c->got == 0) c->first_byte = now() - c->started;
                    c->got += got;
                    done = c->got >= (int)sizeof message;
                }
            }
            if (done || bad) {
                close(c->fd);
                c->fd = -1;
                active--;
                if (done) latencies[ok++] = c->first_byte; else failed++;
            }
        }
    }
    for (int i = 0; i < concurrency; i++) {
        if (slots[i].fd >= 0) {
            close(slots[i].fd);
            failed++;
        }
    }
    double seconds = now() - begin;
    qsort(latencies, ok, sizeof *latencies, compare_doubles);
    double p50 = ok ? latencies[ok / 2] * 1000 : 0;
    double p99 = ok ? latencies[(int)(ok * 0.99) < ok ? (int)(ok * 0.99) : ok - 1] * 1000 : 0;
    printf("%d %d %.3f %.1f %.2f %.2f %.0f\n", ok, failed + (count - started), seconds, ok / seconds, p50, p99,
           own_cpu_ms());
    return 0;
}

/* ------------------------------------------------------------------------------------------------------ hold */

static volatile sig_atomic_t hold_stop;

static void on_hold_signal(int signal) {
    (void)signal;
    hold_stop = 1;
}

static int hold(const char *to, int count, double hold_seconds, double deadline_seconds) {
    struct sockaddr_in address = parse_address(to);
    int epoll = epoll_create1(0);
    int *fds = calloc(count, sizeof *fds);
    char *state = calloc(count, 1); /* 0 not started, 1 connecting, 2 waiting for the echo, 3 held, 4 failed */
    int started = 0, in_flight = 0, held = 0, failed = 0;
    double deadline = now() + deadline_seconds;
    struct sigaction action = {.sa_handler = on_hold_signal};
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);

    while (held + failed < count && now() < deadline && !hold_stop) {
        while (started < count && in_flight < 200) {
            int i = started++;
            fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            if (fds[i] < 0 || (connect(fds[i], (struct sockaddr *)&address, sizeof address) != 0
                               && errno != EINPROGRESS)) {
                if (fds[i] >= 0) close(fds[i]);
                fds[i] = -1;
                state[i] = 4;
                failed++;
                continue;
            }
            state[i] = 1;
            in_flight++;
            struct epoll_event event = {.events = EPOLLOUT, .data.u32 = i};
            epoll_ctl(epoll, EPOLL_CTL_ADD, fds[i], &event);
        }
        struct epoll_event ready[256];
        int n = epoll_wait(epoll, ready, 256, 100);
        for (int k = 0; k < n; k++) {
            int i = ready[k].data.u32, bad = 0;
            if (ready[k].events & (EPOLLERR | EPOLLHUP)) {
                bad = 1;
            } else if (state[i] == 1 && (ready[k].events & EPOLLOUT)) {
                if (send(fds[i], "x", 1, MSG_NOSIGNAL) != 1) {
                    bad = 1;
                } else {
                    struct epoll_event in = {.events = EPOLLIN, .data.u32 = i};
                    epoll_ctl(epoll, EPOLL_CTL_MOD, fds[i], &in);
                    state[i] = 2;
                }
            } else if (state[i] == 2 && (ready[k].events & EPOLLIN)) {
                char byte;
                ssize_t got = recv(fds[i], &byte, 1, 0);
                if (got == 1) {
                    epoll_ctl(epoll, EPOLL_CTL_DEL, fds[i], NULL);
                    state[i] = 3;
                    held++;
                    in_flight--;
                } else if (!(got < 0 && errno == EAGAIN)) {
                    bad = 1;
                }
            }
            if (bad) {
                epoll_ctl(epoll, EPOLL_CTL_DEL, fds[i], NULL);
                close(fds[i]);
                fds[i] = -1;
                state[i] = 4;
                failed++;
                in_flight--;
            }
        }
    }
    printf("held %d %d\n", held, failed + (count - held - failed));
    fflush(stdout);
    double end = now() + hold_seconds;
    while (!hold_stop && now() < end) usleep(100 * 1000);
    for (int i = 0; i < started; i++) {
        if (fds[i] >= 0) close(fds[i]);
    }
    return 0;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    if (argc == 5 && strcmp(argv[1], "source") == 0) {
        static int lifetime;
        source_seconds = atof(argv[3]);
        lifetime = atoi(argv[4]);
        start_lifetime_guard(&lifetime);
        accept_forever(listen_on(argv[2]), serve_source);
    }
    if (argc == 4 && strcmp(argv[1], "sink") == 0) {
        static int lifetime;
        lifetime = atoi(argv[3]);
        start_lifetime_guard(&lifetime);
        accept_forever(listen_on(argv[2]), serve_sink);
    }
    if (argc == 4 && strcmp(argv[1], "echo") == 0) {
        static int lifetime;
        lifetime = atoi(argv[3]);
        start_lifetime_guard(&lifetime);
        echo_server(listen_on(argv[2]));
    }
    if (argc == 5 && strcmp(argv[1], "download") == 0) {
        return streams(argv[2], atoi(argv[3]), 0, atof(argv[4]));
    }
    if (argc == 6 && strcmp(argv[1], "upload") == 0) {
        return streams(argv[2], atoi(argv[3]), atof(argv[4]), atof(argv[5]));
    }
    if (argc == 6 && strcmp(argv[1], "cps") == 0) {
        return cps(argv[2], atoi(argv[3]), atoi(argv[4]), atof(argv[5]));
    }
    if (argc == 6 && strcmp(argv[1], "hold") == 0) {
        return hold(argv[2], atoi(argv[3]), atof(argv[4]), atof(argv[5]));
    }
    fprintf(stderr, "usage: see the comment at the top of loadgen.c\n");
    return 2;
}
