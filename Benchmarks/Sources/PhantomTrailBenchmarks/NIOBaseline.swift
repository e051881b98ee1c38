import NIOCore
import NIOPosix

// `PhantomTrailBenchmarks nio-baseline`: what a TCP connection costs in SwiftNIO alone on this machine, as a yardstick
// for `upgrades`. Each connection is dialed, carries `rounds` request/answer exchanges of 100 bytes (an upgrade is
// about three and a half round trips), and is closed by the dialer; both ends are in this process, `inFlight` at once.

/// Answers every read with the same bytes.
private final class Answerer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}

/// Sends a request, waits for the answer, `rounds` times, then closes and completes `done`.
private final class Asker: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var roundsLeft: Int
    private var pending = 0
    private let done: EventLoopPromise<Void>

    init(rounds: Int, done: EventLoopPromise<Void>) {
        self.roundsLeft = rounds
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        self.ask(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.pending -= Self.unwrapInboundIn(data).readableBytes
        guard self.pending == 0 else { return }
        if self.roundsLeft > 0 {
            self.ask(context: context)
        } else {
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.done.succeed()
    }

    private func ask(context: ChannelHandlerContext) {
        self.roundsLeft -= 1
        self.pending = 100
        context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(repeating: 7, count: 100)), promise: nil)
    }
}

/// Runs the baseline and prints its line and JSON.
func benchmarkNIOBaseline(count: Int = 6_000, inFlight: Int = 64, rounds: Int = 4) async throws {
    let group = MultiThreadedEventLoopGroup.singleton
    let allocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 256 * 1024)
    let server = try await ServerBootstrap(group: group)
        .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
        .childChannelOption(ChannelOptions.recvAllocator, value: allocator)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Answerer()) }
        }
        .bind(host: "127.0.0.1", port: 0).get()
    let address = server.localAddress!
    let connectOnce: @Sendable () async throws -> Void = {
        let connected = try await ClientBootstrap(group: group)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(ChannelOptions.recvAllocator, value: allocator)
            .channelInitializer { channel in
                let done = channel.eventLoop.makePromise(of: Void.self)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Asker(rounds: rounds, done: done))
                }
            }
            .connect(to: address).get()
        try await connected.closeFuture.get()
    }
    func run(_ total: Int) async throws {
        let started = Counter()
        try await withThrowingTaskGroup(of: Void.self) { lanes in
            for _ in 0..<inFlight {
                lanes.addTask {
                    while started.next() <= total {
                        try await connectOnce()
                    }
                }
            }
            try await lanes.waitForAll()
        }
    }
    try await run(200)
    let clock = ContinuousClock()
    let cpuStart = cpuSeconds()
    let elapsed = try await clock.measure { try await run(count) }
    let cpu = cpuSeconds() - cpuStart
    try await server.close()
    let cpuMicros = cpu / Double(count) * 1e6
    print(
        "nio-baseline: \(count) loopback TCP connections, \(rounds) exchanges of 100 bytes each, \(inFlight) in flight: "
            + "\(format(Double(count) / seconds(elapsed), 0)) connections/s; CPU \(format(cpuMicros, 0)) µs per "
            + "connection (both ends), \(format(cpu / seconds(elapsed), 2)) CPUs busy; load \(format(loadAverage(), 2))"
    )
    printJSON(
        "nio-baseline",
        [
            "connections": Double(count), "rounds": Double(rounds), "seconds": seconds(elapsed),
            "cpuMicrosecondsPerConnection": cpuMicros, "cpusBusy": cpu / seconds(elapsed),
        ]
    )
}
