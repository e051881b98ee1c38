import NIOCore
import NIOEmbedded
import P2PCore
import Testing

@testable import P2PHost

/// Hosts on one ``InMemoryNetwork``, all on one event loop with virtual time: nothing happens on a timer until the
/// test calls ``advance(by:)``.
struct VirtualNetwork {
    let loop = NIOAsyncTestingEventLoop()
    let network = InMemoryNetwork()

    /// The clock every host of the network uses.
    var clock: EventLoopClock { EventLoopClock(eventLoop: self.loop) }

    /// A started host listening on the next free virtual port of its own virtual host.
    func makeHost(
        configuration: HostConfiguration = HostConfiguration(),
        listen: Bool = true,
        redialJitter: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) async throws -> VirtualHost {
        var configuration = configuration
        if listen && configuration.listenAddresses.isEmpty {
            configuration.listenAddresses = [try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0")]
        }
        let transport = self.network.makeTransport()
        let host = try LibP2PHost(
            identity: PrivateKey(),
            configuration: configuration,
            eventLoopGroup: self.loop,
            transports: [transport],
            clock: self.clock,
            redialJitter: redialJitter
        )
        try await host.start()
        return VirtualHost(host: host, transport: transport)
    }

    /// Moves virtual time forward, running every timer that falls due on the way.
    func advance(by amount: TimeAmount) async {
        await self.loop.advanceTime(by: amount)
    }
}

/// A host of a ``VirtualNetwork`` with its transport and one consumer of its events.
final class VirtualHost {
    let host: LibP2PHost
    let transport: InMemoryTransport
    private var events: AsyncStream<HostEvent>.Iterator

    init(host: LibP2PHost, transport: InMemoryTransport) {
        self.host = host
        self.transport = transport
        self.events = host.events.makeAsyncIterator()
    }

    var peerID: PeerID { self.host.peerID }

    /// The first listen address, with `/p2p/<id>`.
    var address: Multiaddr {
        get throws { try #require(self.host.listenAddresses.first) }
    }

    /// The next event that `matches` (earlier ones are skipped).
    func next(where matches: (HostEvent) -> Bool) async throws -> HostEvent {
        while let event = await self.events.next() {
            if matches(event) { return event }
        }
        throw P2PHostError(.closed, "the event stream of \(self.peerID) ended")
    }

    /// Every event left until the event stream finishes (after a shutdown).
    func remainingEvents() async -> [HostEvent] {
        var events: [HostEvent] = []
        while let event = await self.events.next() {
            events.append(event)
        }
        return events
    }

    /// Waits for identify with `peer` to finish.
    @discardableResult
    func identified(_ peer: PeerID) async throws -> HostEvent {
        try await self.next {
            if case .identified(peer, _, _, _) = $0 { return true } else { return false }
        }
    }

    /// Waits for the last connection to `peer` to close.
    func disconnected(from peer: PeerID) async throws {
        _ = try await self.next { $0 == .peerDisconnected(peer: peer) }
    }

    /// Waits until the connection to `peer` has no open stream (identify streams close on their own schedule in real
    /// time, while virtual time stands still).
    func settled(with peer: PeerID) async {
        while self.host.openStreamCount(to: peer).map({ $0 > 0 }) ?? false {
            await Task.yield()
        }
    }
}

/// `message` encoded with its varint length prefix, as identify and identify push send it.
func lengthPrefixed(_ message: IdentifyMessage) -> ByteBuffer {
    Identify.framed(message.encoded, allocator: ByteBufferAllocator())
}
