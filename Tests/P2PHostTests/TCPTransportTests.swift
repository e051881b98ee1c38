import Dispatch
import NIOCore
import NIOPosix
import P2PCore
import P2PHost
import Testing

@Suite("TCP transport")
struct TCPTransportTests {
    /// With its event loop stuck, a listener accepts nothing, so every connection attempt waits in the kernel's accept
    /// queue: NIO's default backlog (128) would drop the SYNs of the rest, and those dials would time out.
    @Test("A busy listener queues 300 simultaneous connection attempts instead of dropping them")
    func listenBacklog() async throws {
        let listenerGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let dialerGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let listener = try await TCPTransport().listen(
            on: try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0"),
            group: listenerGroup
        ) { channel in
            channel.eventLoop.makeSucceededVoidFuture()
        }
        let address = try #require(listener.address.tcpSocketAddress)
        let release = DispatchSemaphore(value: 0)
        listenerGroup.next().execute { release.wait() }

        let attempts = (0..<300).map { _ in
            ClientBootstrap(group: dialerGroup).connectTimeout(.seconds(3)).connect(to: address)
        }
        var connected: [any Channel] = []
        var failures = 0
        for attempt in attempts {
            do {
                connected.append(try await attempt.get())
            } catch {
                failures += 1
            }
        }
        release.signal()
        #expect(failures == 0)
        #expect(connected.count == 300)

        for channel in connected {
            try? await channel.close()
        }
        listener.close()
        try await dialerGroup.shutdownGracefully()
        try await listenerGroup.shutdownGracefully()
    }
}
