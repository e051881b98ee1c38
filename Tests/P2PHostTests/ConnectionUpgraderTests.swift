import Logging
import NIOCore
import NIOEmbedded
import P2PCore
import P2PNoise
import P2PYamux
import Synchronization
import Testing

@testable import P2PHost

/// The inbound streams an upgrader delivered, in order.
private final class DeliveredStreams: Sendable {
    private let streams = Mutex<[P2PStream]>([])

    func deliver(_ stream: P2PStream) -> Bool {
        self.streams.withLock { $0.append(stream) }
        return true
    }

    var all: [P2PStream] { self.streams.withLock { $0 } }
}

/// Two embedded channels on one embedded loop; bytes move only when ``interact()`` is called.
private final class InMemoryWire {
    let loop = EmbeddedEventLoop()
    let dialer: EmbeddedChannel
    let listener: EmbeddedChannel
    /// The streams the listener's upgrader delivered.
    let listenerStreams = DeliveredStreams()

    init() {
        self.dialer = EmbeddedChannel(loop: self.loop)
        self.listener = EmbeddedChannel(loop: self.loop)
    }

    func activate() throws {
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 1)
        try self.dialer.connect(to: address).wait()
        try self.listener.connect(to: address).wait()
    }

    /// Moves what the dialer wrote to the listener (`true`) or the other way (`false`), once.
    func deliver(fromDialer: Bool) {
        self.loop.run()
        let (from, to) = fromDialer ? (self.dialer, self.listener) : (self.listener, self.dialer)
        while let bytes = try? from.readOutbound(as: ByteBuffer.self) {
            _ = try? to.writeInbound(bytes)
        }
        self.loop.run()
    }

    /// Moves bytes both ways until neither side writes more.
    func interact() {
        var moved = true
        while moved {
            moved = false
            self.loop.run()
            while let bytes = try? self.dialer.readOutbound(as: ByteBuffer.self) {
                moved = true
                _ = try? self.listener.writeInbound(bytes)
            }
            while let bytes = try? self.listener.readOutbound(as: ByteBuffer.self) {
                moved = true
                _ = try? self.dialer.writeInbound(bytes)
            }
        }
    }
}

/// The outcome of a future, read without blocking the embedded loop.
private final class Outcome<Value> {
    var result: Result<Value, any Error>?

    init(_ future: EventLoopFuture<Value>) {
        future.assumeIsolated().whenComplete { self.result = $0 }
    }

    var value: Value? { try? self.result?.get() }

    var error: (any Error)? {
        if case .failure(let error) = self.result { return error }
        return nil
    }
}

@Suite("ConnectionUpgrader on an in-memory wire")
struct ConnectionUpgraderTests {
    private static let dialerKey = try! PrivateKey(ed25519Seed: [UInt8](repeating: 1, count: 32))
    private static let listenerKey = try! PrivateKey(ed25519Seed: [UInt8](repeating: 2, count: 32))

    private static func upgrader(
        key: PrivateKey,
        protocols: [String] = ["/echo/1"],
        inbound: DeliveredStreams = DeliveredStreams(),
        muxers: [String] = []
    ) throws -> ConnectionUpgrader {
        var yamux = YamuxConfiguration()
        yamux.keepaliveInterval = nil
        return ConnectionUpgrader(
            noise: try NoiseConfiguration(
                localIdentity: key,
                extensions: muxers.isEmpty ? nil : NoiseExtensions(streamMuxers: muxers)
            ),
            yamux: yamux,
            timeout: .seconds(5),
            streamNegotiation: MultistreamSelectConfiguration(timeout: nil),
            supportedProtocols: { protocols },
            inboundStreams: inbound.deliver,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    /// Starts the dialer's upgrade on `wire` (before it is activated).
    private static func dialing(
        on wire: InMemoryWire,
        expectedPeer: PeerID? = nil,
        muxers: [String] = []
    ) throws -> Outcome<UpgradedConnection> {
        Outcome(
            try Self.upgrader(key: Self.dialerKey, muxers: muxers).upgrade(
                channel: wire.dialer,
                direction: .outbound,
                expectedPeer: expectedPeer
            )
        )
    }

    /// Starts the listener's upgrade on `wire` (before it is activated).
    private static func accepting(
        on wire: InMemoryWire,
        muxers: [String] = []
    ) throws -> Outcome<UpgradedConnection> {
        Outcome(
            try Self.upgrader(key: Self.listenerKey, inbound: wire.listenerStreams, muxers: muxers).upgrade(
                channel: wire.listener,
                direction: .inbound,
                expectedPeer: nil
            )
        )
    }

    private static func upgradePair(
        expectedPeer: PeerID? = PeerID(publicKey: Self.listenerKey.publicKey)
    ) throws -> (InMemoryWire, Outcome<UpgradedConnection>, Outcome<UpgradedConnection>) {
        let wire = InMemoryWire()
        let dialed = try Self.dialing(on: wire, expectedPeer: expectedPeer)
        let accepted = try Self.accepting(on: wire)
        try wire.activate()
        wire.interact()
        return (wire, dialed, accepted)
    }

    @Test("Dialer and listener finish the upgrade and learn each other's peer IDs")
    func upgradeBothWays() throws {
        let (_, dialed, accepted) = try Self.upgradePair()
        let dialerSide = try #require(dialed.value)
        let listenerSide = try #require(accepted.value)
        #expect(dialerSide.streams.openStreams == 0)
        #expect(dialerSide.remotePeer == PeerID(publicKey: Self.listenerKey.publicKey))
        #expect(listenerSide.remotePeer == PeerID(publicKey: Self.dialerKey.publicKey))
    }

    @Test(
        "The muxer is chosen in the Noise handshake when both sides list it, else by multistream-select after it",
        arguments: [
            (["/yamux/1.0.0"], ["/yamux/1.0.0"], true),
            (["/yamux/1.0.0", "/mplex/6.7.0"], ["/mplex/6.7.0", "/yamux/1.0.0"], true),
            (["/yamux/1.0.0"], [], false),
            ([], ["/yamux/1.0.0"], false),
            (["/yamux/1.0.0"], ["/mplex/6.7.0"], false),
        ]
    )
    func inlinedMuxerNegotiation(dialerMuxers: [String], listenerMuxers: [String], inlined: Bool) throws {
        let wire = InMemoryWire()
        let dialed = try Self.dialing(
            on: wire,
            expectedPeer: PeerID(publicKey: Self.listenerKey.publicKey),
            muxers: dialerMuxers
        )
        let accepted = try Self.accepting(on: wire, muxers: listenerMuxers)
        try wire.activate()
        wire.deliver(fromDialer: true)  // multistream-select /noise and Noise message 1
        wire.deliver(fromDialer: false)  // the answer and message 2
        // Inlined, the dialer is done once it sent message 3; otherwise it still waits for the muxer's answer.
        #expect((dialed.value != nil) == inlined)
        wire.deliver(fromDialer: true)  // message 3, and the muxer proposal pipelined behind it
        // The listener is done either way: a proposal came with message 3.
        #expect(accepted.value != nil)
        wire.interact()
        let dialerSide = try #require(dialed.value)
        _ = try #require(accepted.value)
        // The connection carries streams either way.
        let opened = Outcome(
            ConnectionUpgrader.openStream(
                on: dialerSide.session,
                protocols: ["/echo/1"],
                remotePeer: dialerSide.remotePeer,
                tracker: dialerSide.streams,
                negotiation: MultistreamSelectConfiguration(timeout: nil),
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            )
        )
        wire.interact()
        #expect(opened.value?.protocolID == "/echo/1")
        #expect(wire.listenerStreams.all.count == 1)
    }

    @Test("The inlined muxer is the initiator's first choice that the responder lists, from either side's view")
    func inlinedMuxerChoice() {
        let initiator = ["/mplex/6.7.0", "/yamux/1.0.0"]
        let responder = ["/yamux/1.0.0", "/mplex/6.7.0"]
        #expect(
            ConnectionUpgrader.inlinedMuxer(local: initiator, remote: responder, direction: .outbound) == "/mplex/6.7.0"
        )
        #expect(
            ConnectionUpgrader.inlinedMuxer(local: responder, remote: initiator, direction: .inbound) == "/mplex/6.7.0"
        )
        #expect(ConnectionUpgrader.inlinedMuxer(local: ["/yamux/1.0.0"], remote: [], direction: .outbound) == nil)
        #expect(ConnectionUpgrader.inlinedMuxer(local: [], remote: ["/yamux/1.0.0"], direction: .inbound) == nil)
        #expect(ConnectionUpgrader.inlinedMuxer(local: ["/a"], remote: ["/b"], direction: .outbound) == nil)
    }

    @Test("A stream negotiates a protocol the listener supports and reaches its inbound streams")
    func streamNegotiation() throws {
        let (wire, dialed, accepted) = try Self.upgradePair()
        let dialerSide = try #require(dialed.value)
        let listenerSide = try #require(accepted.value)
        let opened = Outcome(
            ConnectionUpgrader.openStream(
                on: dialerSide.session,
                protocols: ["/other/1", "/echo/1"],
                remotePeer: dialerSide.remotePeer,
                tracker: dialerSide.streams,
                negotiation: MultistreamSelectConfiguration(timeout: nil),
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            )
        )
        wire.interact()
        let stream = try #require(opened.value)
        #expect(stream.protocolID == "/echo/1")
        let delivered = wire.listenerStreams.all
        #expect(delivered.count == 1)
        let received = try #require(delivered.first)
        #expect(received.protocolID == "/echo/1")
        #expect(received.remotePeer == PeerID(publicKey: Self.dialerKey.publicKey))
        // Both ends count the open stream, so neither connection is idle.
        #expect(dialerSide.streams.openStreams == 1)
        #expect(listenerSide.streams.openStreams == 1)
    }

    @Test("A stream for a protocol the listener lacks fails with no common protocol")
    func streamProtocolMismatch() throws {
        let (wire, dialed, _) = try Self.upgradePair()
        let dialerSide = try #require(dialed.value)
        let opened = Outcome(
            ConnectionUpgrader.openStream(
                on: dialerSide.session,
                protocols: ["/missing/1"],
                remotePeer: dialerSide.remotePeer,
                tracker: dialerSide.streams,
                negotiation: MultistreamSelectConfiguration(timeout: nil),
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            )
        )
        wire.interact()
        let error = try #require(opened.error as? P2PCoreError)
        #expect(error.code == .multistreamNoCommonProtocol)
    }

    @Test("Dialing with the wrong expected peer ID fails the upgrade")
    func wrongPeer() throws {
        let stranger = PeerID(publicKey: PrivateKey().publicKey)
        let (wire, dialed, _) = try Self.upgradePair(expectedPeer: stranger)
        let error = try #require(dialed.error as? P2PHostError)
        #expect(error.code == .upgradeFailed)
        #expect(!wire.dialer.isActive)
    }

    @Test("The dialer proposes /noise optimistically: Noise's first message follows the proposal before any answer")
    func optimisticSecurityProposal() throws {
        let wire = InMemoryWire()
        _ = try Self.dialing(on: wire)
        try wire.activate()
        var sent = ByteBuffer()
        while var chunk = try wire.dialer.readOutbound(as: ByteBuffer.self) {
            sent.writeBuffer(&chunk)
        }
        var proposal = ByteBuffer()
        _ = proposal.writeUVarintLengthPrefixed(Array("/multistream/1.0.0\n".utf8))
        _ = proposal.writeUVarintLengthPrefixed(Array("/noise\n".utf8))
        #expect(sent.readSlice(length: proposal.readableBytes) == proposal)
        // Then Noise message 1: a 2-byte length and the 32-byte ephemeral key.
        #expect(sent.readInteger(as: UInt16.self) == 32)
        #expect(sent.readableBytes == 32)
    }

    @Test("A listener without /noise answers na: the dialer's upgrade fails naming the security negotiation")
    func listenerWithoutNoise() throws {
        let wire = InMemoryWire()
        let dialed = try Self.dialing(on: wire)
        try wire.activate()
        var answer = ByteBuffer()
        _ = answer.writeUVarintLengthPrefixed(Array("/multistream/1.0.0\n".utf8))
        _ = answer.writeUVarintLengthPrefixed(Array("na\n".utf8))
        _ = try? wire.dialer.writeInbound(answer)
        let error = try #require(dialed.error as? P2PHostError)
        #expect(error.code == .upgradeFailed)
        #expect(error.message.contains("security negotiation"))
        #expect((error.underlying as? P2PCoreError)?.code == .multistreamNoCommonProtocol)
        #expect(!wire.dialer.isActive)
    }

    @Test("Garbage instead of multistream-select fails the listener's upgrade and closes the channel")
    func garbage() throws {
        let wire = InMemoryWire()
        let accepted = try Self.accepting(on: wire)
        try wire.activate()
        // An over-long varint where the first multistream-select length prefix belongs.
        _ = try? wire.listener.writeInbound(ByteBuffer(bytes: [UInt8](repeating: 0xFF, count: 16)))
        let error = try #require(accepted.error as? P2PHostError)
        #expect(error.code == .upgradeFailed)
        #expect(!wire.listener.isActive)
    }

    @Test("An upgrade the peer never answers fails with a timeout and closes the channel")
    func timeout() throws {
        let wire = InMemoryWire()
        let dialed = try Self.dialing(on: wire)
        try wire.activate()
        wire.loop.advanceTime(by: .seconds(4))
        #expect(dialed.result == nil)
        wire.loop.advanceTime(by: .seconds(1))
        let error = try #require(dialed.error as? P2PHostError)
        #expect(error.code == .timedOut)
        #expect(!wire.dialer.isActive)
    }
}
