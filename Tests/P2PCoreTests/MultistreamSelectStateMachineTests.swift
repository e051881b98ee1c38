import NIOCore
import Testing

@testable import P2PCore

/// Golden bytes: multiformats/multistream-select README (CC-BY-SA 3.0 / MIT) and values derived per its
/// rule, via /work/shared/vectors/libp2p-wire-golden-bytes.json.
enum MultistreamVectors {
    static let header = "132f6d756c746973747265616d2f312e302e300a"
    static let na = "036e610a"
    static let ls = "036c730a"
    static let noise = "072f6e6f6973650a"
    static let yamux = "0d2f79616d75782f312e302e300a"
    static let kad = "102f697066732f6b61642f312e302e300a"
}

private typealias Machine = MultistreamSelectStateMachine

private func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }
private func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

/// Sends `bytes` to `machine`, one read at a time if `dripFeed`, and collects what it answers.
private func feed(
    _ machine: inout Machine,
    _ bytes: ByteBuffer,
    dripFeed: Bool
) -> (sent: ByteBuffer, outcome: Machine.BytesReceivedAction?) {
    var sent = ByteBuffer()
    let chunks: [ByteBuffer] =
        dripFeed
        ? bytes.readableBytesView.map { ByteBuffer(bytes: [$0]) }
        : [bytes]
    for (index, chunk) in chunks.enumerated() {
        switch machine.bytesReceived(chunk) {
        case .doNothing:
            continue
        case .send(var out):
            sent.writeBuffer(&out)
        case .negotiated(let id, let out, var leftover):
            if var out { sent.writeBuffer(&out) }
            // Chunks not yet fed are leftover too.
            for var rest in chunks[(index + 1)...] { leftover.writeBuffer(&rest) }
            return (sent, .negotiated(protocol: id, send: nil, leftover: leftover))
        case .failed(let error):
            return (sent, .failed(error))
        }
    }
    return (sent, nil)
}

/// Runs a dialer and a listener against each other in memory until both finish. The listener sends
/// `listenerAppData` right after its acceptance, as a protocol that speaks first would.
private func negotiate(
    dialer proposals: [String],
    listener supported: [String],
    dripFeed: Bool,
    listenerAppData: String = ""
) -> (dialer: Machine.BytesReceivedAction?, listener: Machine.BytesReceivedAction?) {
    var dialer = Machine(role: .dialer(proposing: proposals))
    var listener = Machine(role: .listener(supporting: supported))
    guard case .send(var toListener) = dialer.start() else {
        Issue.record("dialer did not send on start")
        return (nil, nil)
    }
    #expect(listener.start() == .doNothing)
    var dialerOutcome: Machine.BytesReceivedAction?
    var listenerOutcome: Machine.BytesReceivedAction?
    // Each round: the listener reads what the dialer sent, then the dialer reads the answer.
    for _ in 0..<(proposals.count + 1) where dialerOutcome == nil {
        var toDialer: ByteBuffer
        (toDialer, listenerOutcome) = feed(&listener, toListener, dripFeed: dripFeed)
        if case .negotiated = listenerOutcome {
            toDialer.writeString(listenerAppData)
        }
        (toListener, dialerOutcome) = feed(&dialer, toDialer, dripFeed: dripFeed)
    }
    return (dialerOutcome, listenerOutcome)
}

@Suite("multistream-select state machine")
struct MultistreamSelectStateMachineTests {
    @Test("The dialer pipelines the header and its first proposal in one write (golden bytes)")
    func dialerStartBytes() {
        var dialer = Machine(role: .dialer(proposing: ["/noise"]))
        #expect(dialer.start() == .send(buffer(hex(MultistreamVectors.header + MultistreamVectors.noise))))
    }

    @Test("The listener answers header plus echo in one write and hands over pipelined data")
    func listenerAcceptsWithLeftover() {
        var listener = Machine(role: .listener(supporting: ["/yamux/1.0.0", "/noise"]))
        #expect(listener.start() == .doNothing)
        var input = buffer(hex(MultistreamVectors.header + MultistreamVectors.noise))
        input.writeString("early")
        #expect(
            listener.bytesReceived(input)
                == .negotiated(
                    protocol: "/noise",
                    send: buffer(hex(MultistreamVectors.header + MultistreamVectors.noise)),
                    leftover: buffer("early")
                )
        )
        #expect(listener.isFinished)
    }

    @Test("The listener rejects an unsupported proposal with header plus na (golden bytes)")
    func listenerRejects() {
        var listener = Machine(role: .listener(supporting: ["/noise"]))
        _ = listener.start()
        let action = listener.bytesReceived(buffer(hex(MultistreamVectors.header + MultistreamVectors.kad)))
        #expect(action == .send(buffer(hex(MultistreamVectors.header + MultistreamVectors.na))))
        #expect(!listener.isFinished)
    }

    @Test("The dialer moves to its next proposal after na and accepts the echo with leftover data")
    func dialerRetriesAfterNA() {
        var dialer = Machine(role: .dialer(proposing: ["/ipfs/kad/1.0.0", "/yamux/1.0.0"]))
        _ = dialer.start()
        let afterNA = dialer.bytesReceived(buffer(hex(MultistreamVectors.header + MultistreamVectors.na)))
        #expect(afterNA == .send(buffer(hex(MultistreamVectors.yamux))))
        var echo = buffer(hex(MultistreamVectors.yamux))
        echo.writeBytes([0x00, 0x01])
        #expect(
            dialer.bytesReceived(echo)
                == .negotiated(protocol: "/yamux/1.0.0", send: nil, leftover: buffer([0x00, 0x01]))
        )
    }

    @Test(
        "Dialer and listener agree in memory, in whole writes and drip-fed byte by byte",
        arguments: [false, true]
    )
    func inMemoryNegotiation(dripFeed: Bool) {
        let (dialer, listener) = negotiate(
            dialer: ["/tls/1.0.0", "/mplex/6.7.0", "/noise"],
            listener: ["/noise", "/yamux/1.0.0"],
            dripFeed: dripFeed,
            listenerAppData: "world"
        )
        #expect(dialer == .negotiated(protocol: "/noise", send: nil, leftover: buffer("world")))
        #expect(listener == .negotiated(protocol: "/noise", send: nil, leftover: ByteBuffer()))
    }

    @Test("The dialer fails with no common protocol after the last na", arguments: [false, true])
    func noCommonProtocol(dripFeed: Bool) {
        let (dialer, _) = negotiate(dialer: ["/a", "/b"], listener: ["/c"], dripFeed: dripFeed)
        #expect(dialer == .failed(P2PCoreError(.multistreamNoCommonProtocol, "")))
    }

    @Test("The listener answers ls with its protocols, then still negotiates")
    func listenerAnswersLS() {
        var listener = Machine(role: .listener(supporting: ["/a", "/bc"]))
        _ = listener.start()
        let action = listener.bytesReceived(buffer(hex(MultistreamVectors.header + MultistreamVectors.ls)))
        // Body: 03 "/a\n" 04 "/bc\n" "\n" = 1 + 3 + 1 + 4 + 1 = 10 bytes.
        let lsReply = "0a" + "032f610a" + "042f62630a" + "0a"
        #expect(action == .send(buffer(hex(MultistreamVectors.header + lsReply))))
        #expect(
            listener.bytesReceived(buffer(hex("042f62630a")))
                == .negotiated(protocol: "/bc", send: buffer(hex("042f62630a")), leftover: ByteBuffer())
        )
    }

    @Test(
        "Rejects malformed messages from the peer, in both roles",
        arguments: [
            // Wrong header.
            ("132f6d756c746973747265616d2f322e302e300a", P2PCoreError.Code.multistreamProtocolViolation),
            // Missing newline: "/noise" + "x".
            ("072f6e6f69736578", .multistreamProtocolViolation),
            // Non-minimal length prefix for 3 bytes.
            ("8300", .multistreamProtocolViolation),
            // Zero-length message.
            ("00", .multistreamProtocolViolation),
            // Length 1025 exceeds the 1 KiB message limit (rejected before the body arrives).
            ("8108", .multistreamLimitExceeded),
            // Overlong varint.
            ("ffffffffffffffffff", .multistreamProtocolViolation),
            // Invalid UTF-8.
            ("03ff fe0a", .multistreamProtocolViolation),
            // A TLS ClientHello record: 0x16 reads as a 22-byte message without a newline.
            ("160301" + String(repeating: "00", count: 32), .multistreamProtocolViolation),
        ]
    )
    func rejectsGarbage(input: String, code: P2PCoreError.Code) {
        for role in [MultistreamSelectRole.dialer(proposing: ["/noise"]), .listener(supporting: ["/noise"])] {
            var machine = Machine(role: role)
            _ = machine.start()
            #expect(machine.bytesReceived(buffer(hex(input))) == .failed(P2PCoreError(code, "")))
            #expect(machine.isFinished)
            // After a failure further bytes are ignored.
            #expect(machine.bytesReceived(buffer(hex(MultistreamVectors.header))) == .doNothing)
        }
    }

    @Test("The dialer fails when the listener answers something other than echo or na")
    func dialerUnexpectedAnswer() {
        var dialer = Machine(role: .dialer(proposing: ["/noise"]))
        _ = dialer.start()
        let action = dialer.bytesReceived(buffer(hex(MultistreamVectors.header + MultistreamVectors.yamux)))
        #expect(action == .failed(P2PCoreError(.multistreamProtocolViolation, "")))
    }

    @Test("The listener gives up after too many proposals")
    func listenerAttemptLimit() {
        var listener = Machine(
            role: .listener(supporting: ["/noise"]),
            configuration: .init(maxListenerAttempts: 3)
        )
        _ = listener.start()
        var input = buffer(hex(MultistreamVectors.header))
        for _ in 0..<3 { input.writeBytes(hex(MultistreamVectors.kad)) }
        let expected = hex(
            MultistreamVectors.header + MultistreamVectors.na + MultistreamVectors.na + MultistreamVectors.na
        )
        #expect(listener.bytesReceived(input) == .send(buffer(expected)))
        #expect(
            listener.bytesReceived(buffer(hex(MultistreamVectors.kad)))
                == .failed(P2PCoreError(.multistreamLimitExceeded, ""))
        )
    }

    @Test("The negotiation fails once the peer has sent too many bytes")
    func totalByteLimit() {
        var listener = Machine(
            role: .listener(supporting: ["/noise"]),
            configuration: .init(maxNegotiationBytes: 40, maxListenerAttempts: 100)
        )
        _ = listener.start()
        // header (20) + kad (17) = 37 bytes are fine; the next 17 exceed 40.
        #expect(
            listener.bytesReceived(buffer(hex(MultistreamVectors.header + MultistreamVectors.kad)))
                == .send(buffer(hex(MultistreamVectors.header + MultistreamVectors.na)))
        )
        #expect(
            listener.bytesReceived(buffer(hex(MultistreamVectors.kad)))
                == .failed(P2PCoreError(.multistreamLimitExceeded, ""))
        )
    }

    @Test("EOF before the end of the negotiation is an error, after it is not")
    func inputClosed() {
        var listener = Machine(role: .listener(supporting: ["/noise"]))
        _ = listener.start()
        #expect(listener.bytesReceived(buffer(hex("13"))) == .doNothing)
        #expect(listener.inputClosed() == .failed(P2PCoreError(.connectionClosed, "")))

        var done = Machine(role: .listener(supporting: ["/noise"]))
        _ = done.start()
        _ = done.bytesReceived(buffer(hex(MultistreamVectors.header + MultistreamVectors.noise)))
        #expect(done.inputClosed() == .doNothing)
    }

    @Test("Messages are framed as uvarint length, text and newline")
    func framing() {
        var out = ByteBuffer()
        for (text, expected) in [
            ("na", MultistreamVectors.na), ("ls", MultistreamVectors.ls),
            ("/multistream/1.0.0", MultistreamVectors.header), ("/yamux/1.0.0", MultistreamVectors.yamux),
        ] {
            out.clear()
            Machine.writeMessage(text, to: &out)
            #expect(out == buffer(hex(expected)))
        }
        let long = "/" + String(repeating: "x", count: 200)
        out.clear()
        Machine.writeMessage(long, to: &out)
        #expect(Array(out.readableBytesView.prefix(2)) == [0xCA, 0x01])  // 202 = 0xCA 0x01
    }
}
