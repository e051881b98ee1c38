import Foundation
import P2PCore
import PrivacyNetwork
import Synchronization

/// A transport that opens nothing: it records relayed envelopes, reports the round trips it is given, and delivers
/// the events a test emits.
final class FakePrivacyTransport: PrivacyNetworkTransport {
    let localPeerID = PeerID(publicKey: PrivateKey().publicKey)
    private let continuation: Mutex<AsyncStream<PrivacyTransportEvent>.Continuation?> = Mutex(nil)
    private let relayedEnvelopes = Mutex<[[UInt8]]>([])
    private let roundTrips = Mutex<[PeerID: Duration]>([:])

    func start(_ callbacks: PrivacyTransportCallbacks) async throws -> AsyncStream<PrivacyTransportEvent> {
        let (stream, continuation) = AsyncStream<PrivacyTransportEvent>.makeStream()
        self.continuation.withLock { $0 = continuation }
        return stream
    }

    func listenAddresses() async -> [Multiaddr] { [] }
    func dial(_ address: Multiaddr) async throws -> PeerID { throw CancellationError() }
    func disconnect(from peer: PeerID) async {}
    func ping(_ peer: PeerID) async throws {}

    func relay(_ envelope: [UInt8]) async throws {
        self.relayedEnvelopes.withLock { $0.append(envelope) }
    }

    func publish(_ envelope: [UInt8]) async throws {}
    func fetchReports(
        from peer: PeerID,
        epochs: [UInt32],
        deliver: @escaping @Sendable ([VerifiedReport]) async -> Void
    ) async throws {}

    func shutdown() async {
        self.continuation.withLock { $0 }?.finish()
    }

    func pingRoundTrips() async -> [PeerID: Duration] {
        self.roundTrips.withLock { $0 }
    }

    /// The envelopes handed to the stem relay so far.
    var relayed: [[UInt8]] { self.relayedEnvelopes.withLock { $0 } }

    /// Sets the round trip reported for `peer`.
    func setRoundTrip(_ duration: Duration, for peer: PeerID) {
        self.roundTrips.withLock { $0[peer] = duration }
    }
}

/// A clock value the test moves by hand.
final class ManualNow: Sendable {
    private let date: Mutex<Date>

    init(_ date: Date) {
        self.date = Mutex(date)
    }

    var now: Date { self.date.withLock { $0 } }

    func set(_ date: Date) {
        self.date.withLock { $0 = date }
    }
}
