import Foundation
import P2PCore
import PrivacyCore
import PrivacyNetwork
import Synchronization

/// An in-memory stand-in for the libp2p stack: transports registered on one hub reach each other by fake
/// `/ip4/127.0.0.1/tcp/<n>/p2p/<id>` addresses. `relay` hands the envelope to one connected peer (the
/// lowest peer ID, so runs are repeatable), which publishes it; `publish` floods it over the connection
/// graph, each node forwarding only what its admission accepted (like a GossipSub validator).
final class MemoryHub: Sendable {
    private struct State {
        var transports: [PeerID: MemoryTransport] = [:]
        var ports: [UInt16: PeerID] = [:]
        var links: [PeerID: Set<PeerID>] = [:]
        var nextPort: UInt16 = 10_000
        var created = 0
    }

    private let state = Mutex(State())
    /// The network whose reports the transports' sync fetches verify.
    let parameters: NetworkParameters

    init(parameters: NetworkParameters) {
        self.parameters = parameters
    }

    /// How many transports were ever created on this hub.
    var transportsCreated: Int { self.state.withLock { $0.created } }

    /// A factory for ``P2PPrivacyNetwork``.
    func factory() -> P2PPrivacyNetwork.TransportFactory {
        { [self] in self.makeTransport() }
    }

    func makeTransport() -> MemoryTransport {
        let transport = MemoryTransport(hub: self, peerID: PeerID(publicKey: PrivateKey().publicKey))
        self.state.withLock { state in
            state.created += 1
            state.transports[transport.localPeerID] = transport
        }
        return transport
    }

    func bind(_ peer: PeerID) -> Multiaddr {
        self.state.withLock { state in
            let port = state.nextPort
            state.nextPort += 1
            state.ports[port] = peer
            return Self.address(port: port, peer: peer)
        }
    }

    static func address(port: UInt16, peer: PeerID) -> Multiaddr {
        try! Multiaddr(parsing: "/ip4/127.0.0.1/tcp/\(port)/p2p/\(peer)")
    }

    func connect(_ from: PeerID, to address: Multiaddr) throws -> MemoryTransport {
        try self.state.withLock { state in
            let port = address.components.lazy.compactMap { component -> UInt16? in
                if case .tcp(let port) = component { return port }
                return nil
            }.first
            guard let port, let peer = state.ports[port], let target = state.transports[peer], target.isStarted,
                peer != from
            else {
                throw MemoryHubError(message: "nothing listens at \(address)")
            }
            state.links[from, default: []].insert(peer)
            state.links[peer, default: []].insert(from)
            return target
        }
    }

    func disconnect(_ a: PeerID, _ b: PeerID) -> MemoryTransport? {
        self.state.withLock { state in
            let wasLinked = state.links[a]?.remove(b) != nil
            state.links[b]?.remove(a)
            return wasLinked ? state.transports[b] : nil
        }
    }

    func remove(_ peer: PeerID) -> [MemoryTransport] {
        self.state.withLock { state in
            let neighbours = state.links.removeValue(forKey: peer) ?? []
            for other in neighbours { state.links[other]?.remove(peer) }
            state.transports[peer] = nil
            state.ports = state.ports.filter { $0.value != peer }
            return neighbours.compactMap { state.transports[$0] }
        }
    }

    func neighbours(of peer: PeerID) -> [MemoryTransport] {
        self.state.withLock { state in
            (state.links[peer] ?? []).sorted().compactMap { state.transports[$0] }
        }
    }

    func transport(_ peer: PeerID) -> MemoryTransport? {
        self.state.withLock { $0.transports[peer] }
    }

    /// Floods `envelope` from `origin` to every node reachable through nodes that accept it.
    func flood(_ envelope: [UInt8], from origin: PeerID) async {
        var queue = [(origin, origin)]
        var visited: Set<PeerID> = [origin]
        while !queue.isEmpty {
            let (node, _) = queue.removeFirst()
            for neighbour in self.neighbours(of: node) where visited.insert(neighbour.localPeerID).inserted {
                if await neighbour.deliver(envelope, from: node) == .accept {
                    queue.append((neighbour.localPeerID, node))
                }
            }
        }
    }
}

struct MemoryHubError: Error, CustomStringConvertible {
    var message: String
    var description: String { self.message }
}

/// One node's in-memory transport.
final class MemoryTransport: PrivacyNetworkTransport {
    private struct State {
        var callbacks: PrivacyTransportCallbacks?
        var continuation: AsyncStream<PrivacyTransportEvent>.Continuation?
        var address: Multiaddr?
        var relayed: [[UInt8]] = []
        var published: [[UInt8]] = []
        var syncRequests = 0
    }

    let localPeerID: PeerID
    private let hub: MemoryHub
    private let state = Mutex(State())
    private let syncValidator: SharedReportValidator

    init(hub: MemoryHub, peerID: PeerID) {
        self.hub = hub
        self.localPeerID = peerID
        self.syncValidator = SharedReportValidator(parameters: hub.parameters)
    }

    var isStarted: Bool { self.state.withLock { $0.callbacks != nil } }
    var relayed: [[UInt8]] { self.state.withLock { $0.relayed } }
    var published: [[UInt8]] { self.state.withLock { $0.published } }
    var syncRequests: Int { self.state.withLock { $0.syncRequests } }

    func start(_ callbacks: PrivacyTransportCallbacks) async throws -> AsyncStream<PrivacyTransportEvent> {
        let (stream, continuation) = AsyncStream<PrivacyTransportEvent>.makeStream()
        let address = self.hub.bind(self.localPeerID)
        self.state.withLock { state in
            state.callbacks = callbacks
            state.continuation = continuation
            state.address = address
        }
        return stream
    }

    func listenAddresses() async -> [Multiaddr] {
        self.state.withLock { $0.address.map { [$0.removingPeerID()] } ?? [] }
    }

    var address: Multiaddr? { self.state.withLock { $0.address } }

    func dial(_ address: Multiaddr) async throws -> PeerID {
        let target = try self.hub.connect(self.localPeerID, to: address)
        self.emit(.peerConnected(target.localPeerID, dialedByUs: true))
        target.emit(.peerConnected(self.localPeerID, dialedByUs: false))
        // Identify: each side learns the other's neighbours' addresses (like listen addresses plus PX).
        let known = self.hub.neighbours(of: target.localPeerID).compactMap(\.address)
        self.emit(.addressesLearned(known, from: target.localPeerID))
        return target.localPeerID
    }

    func disconnect(from peer: PeerID) async {
        if let other = self.hub.disconnect(self.localPeerID, peer) {
            self.emit(.peerDisconnected(peer))
            other.emit(.peerDisconnected(self.localPeerID))
        }
    }

    func ping(_ peer: PeerID) async throws {
        guard self.hub.neighbours(of: self.localPeerID).contains(where: { $0.localPeerID == peer }) else {
            throw MemoryHubError(message: "\(peer) is not connected")
        }
    }

    func relay(_ envelope: [UInt8]) async throws {
        self.state.withLock { $0.relayed.append(envelope) }
        guard let relay = self.hub.neighbours(of: self.localPeerID).first else {
            throw MemoryHubError(message: "no relay connected")
        }
        // The relay admits it (stem validation) and publishes it; the author never publishes first.
        if await relay.deliver(envelope, from: self.localPeerID) == .accept {
            try await relay.publish(envelope)
        }
    }

    func publish(_ envelope: [UInt8]) async throws {
        self.state.withLock { $0.published.append(envelope) }
        await self.hub.flood(envelope, from: self.localPeerID)
    }

    func fetchReports(
        from peer: PeerID,
        epochs: [UInt32],
        deliver: @escaping @Sendable ([VerifiedReport]) async -> Void
    ) async throws {
        guard let other = self.hub.transport(peer) else { throw MemoryHubError(message: "\(peer) is gone") }
        guard let newest = epochs.max() else { return }
        // Verified here, like the libp2p transport's sync fetch, before the network admits them.
        let verified = await other.serveSync(epochs: epochs).compactMap {
            self.syncValidator.validate($0, currentEpoch: newest).verifiedReport
        }
        if !verified.isEmpty { await deliver(verified) }
    }

    func shutdown() async {
        let continuation = self.state.withLock { state in
            defer {
                state.continuation = nil
                state.callbacks = nil
            }
            return state.continuation
        }
        for neighbour in self.hub.remove(self.localPeerID) {
            neighbour.emit(.peerDisconnected(self.localPeerID))
        }
        continuation?.finish()
    }

    func deliver(_ envelope: [UInt8], from peer: PeerID) async -> AdmissionVerdict {
        guard let callbacks = self.state.withLock({ $0.callbacks }) else { return .ignore }
        return await callbacks.admit(envelope, peer)
    }

    func serveSync(epochs: [UInt32]) async -> [[UInt8]] {
        guard
            let callbacks = self.state.withLock({ state -> PrivacyTransportCallbacks? in
                state.syncRequests += 1
                return state.callbacks
            })
        else { return [] }
        return await callbacks.syncResponse(epochs, 10_000)
    }

    func emit(_ event: PrivacyTransportEvent) {
        _ = self.state.withLock { $0.continuation }?.yield(event)
    }
}

/// A time source the test moves.
final class TestTime: Sendable {
    private let date: Mutex<Date>

    init(_ date: Date) {
        self.date = Mutex(date)
    }

    var now: Date { self.date.withLock { $0 } }

    func set(_ date: Date) {
        self.date.withLock { $0 = date }
    }

    func advance(by seconds: TimeInterval) {
        self.date.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    var source: @Sendable () -> Date { { [self] in self.now } }
}
