import NIOCore
import P2PCore
import Testing

@testable import P2PHost

/// Answers `/ipfs/id/1.0.0` on `host` with `reply` as it is, then closes.
private func answerIdentify(on host: LibP2PHost, with reply: ByteBuffer) {
    host.setHandler(protocol: Identify.protocolID) { stream in
        try await stream.write(reply)
        try await stream.closeWrite()
        await stream.close()
    }
}

@Suite("Identify between hosts, asked and answered on the event loop", .timeLimit(.minutes(1)))
struct IdentifyHostTests {
    @Test("An identify handler set by the application answers instead of the built-in one")
    func applicationHandlerAnswers() async throws {
        let net = VirtualNetwork()
        let a = try await net.makeHost()
        let b = try await net.makeHost()
        let custom = IdentifyMessage(
            publicKey: try b.peerID.extractPublicKey(),
            protocols: ["/custom/1"],
            agentVersion: "custom/9"
        )
        answerIdentify(on: b.host, with: lengthPrefixed(custom))
        _ = try await a.host.dial(try b.address)
        let seen = try await a.identified(b.peerID)
        #expect(
            seen == .identified(peer: b.peerID, agentVersion: "custom/9", protocols: ["/custom/1"], listenAddresses: [])
        )
        await a.host.shutdown()
        await b.host.shutdown()
    }

    @Test(
        "A bad identify reply fails the identify with a clear error and leaves the connection usable",
        arguments: [
            ("oversized", P2PHostError.Code.messageTooLarge),
            ("foreign key", .protocolViolation),
            ("garbage", .protocolViolation),
            ("truncated", .protocolViolation),
            ("empty", .protocolViolation),
        ]
    )
    func badReply(kind: String, expected: P2PHostError.Code) async throws {
        let net = VirtualNetwork()
        var quiet = HostConfiguration()
        quiet.identifyOnConnect = false
        let a = try await net.makeHost(configuration: quiet)
        let b = try await net.makeHost(configuration: quiet)
        let reply: ByteBuffer
        switch kind {
        case "oversized":
            reply = ByteBuffer(repeating: 0x0A, count: Identify.maxStreamBytes + 1)
        case "foreign key":
            reply = lengthPrefixed(IdentifyMessage(publicKey: PrivateKey().publicKey, agentVersion: "impostor/1"))
        case "garbage":
            reply = ByteBuffer(bytes: [0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        case "truncated":
            reply = ByteBuffer(bytes: [0x05, 0x01])
        default:
            reply = ByteBuffer()
        }
        answerIdentify(on: b.host, with: reply)
        b.host.setHandler(protocol: "/test/ping-pong/1") { stream in
            try await stream.write(ByteBuffer(string: "pong"))
            try await stream.closeWrite()
            await stream.close()
        }
        _ = try await a.host.dial(try b.address)

        let error = await #expect(throws: P2PHostError.self) { _ = try await a.host.identify(b.peerID) }
        #expect(error?.code == expected)
        #expect(a.host.identifyResult(of: b.peerID) == nil)
        // The connection still carries other streams.
        let stream = try await a.host.newStream(to: b.peerID, protocols: ["/test/ping-pong/1"])
        #expect(String(buffer: try await stream.readToEnd(maxBytes: 16)) == "pong")
        await stream.close()
        await a.host.shutdown()
        await b.host.shutdown()
    }

    @Test("A failed identify on connect is reported as an error event naming the peer")
    func failedIdentifyOnConnectIsReported() async throws {
        let net = VirtualNetwork()
        let a = try await net.makeHost()
        let b = try await net.makeHost()
        answerIdentify(on: b.host, with: ByteBuffer(bytes: [0x05, 0x01]))
        _ = try await a.host.dial(try b.address)
        let event = try await a.next {
            if case .error(_, b.peerID) = $0 { return true } else { return false }
        }
        guard case .error(let message, _) = event else { return }
        #expect(message.hasPrefix("identify with \(b.peerID) failed"))
        await a.host.shutdown()
        await b.host.shutdown()
    }
}
