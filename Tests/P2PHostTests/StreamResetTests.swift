import NIOCore
import P2PCore
import Testing

@testable import P2PHost

/// How a stream handler's read loop ended.
private enum ReadOutcome: Equatable, Sendable {
    case endOfStream(received: String)
    case failed(P2PHostError.Code, received: String)
}

/// Reads until the end of the stream and reports how it ended.
private func readOutcome(of stream: P2PStream) async -> ReadOutcome {
    var received = ""
    do {
        while let chunk = try await stream.read() {
            received += String(buffer: chunk)
        }
        return .endOfStream(received: received)
    } catch let error as P2PHostError {
        return .failed(error.code, received: received)
    } catch {
        return .failed(.closed, received: received)
    }
}

@Suite("Stream reset (Yamux RST) on P2PStream", .timeLimit(.minutes(1)))
struct StreamResetTests {
    private let holdProtocol = "/test/hold/1.0.0"
    private let strictProtocol = "/test/strict/1.0.0"

    /// Two connected hosts; `b` reports how each `/test/hold` stream's reads ended.
    private func connectedPair(
        _ net: VirtualNetwork
    ) async throws -> (a: VirtualHost, b: VirtualHost, outcomes: AsyncStream<ReadOutcome>) {
        let a = try await net.makeHost()
        let b = try await net.makeHost()
        let (outcomes, continuation) = AsyncStream<ReadOutcome>.makeStream()
        b.host.setHandler(protocol: self.holdProtocol) { stream in
            continuation.yield(await readOutcome(of: stream))
            await stream.close()
        }
        // A strict protocol: anything but "hello" is a malformed message, and the handler throws.
        b.host.setHandler(protocol: self.strictProtocol) { stream in
            let message = try await stream.read(exactly: 5)
            guard String(buffer: message) == "hello" else {
                throw P2PHostError(.protocolViolation, "malformed greeting")
            }
            try await stream.write(ByteBuffer(string: "hi"))
            try await stream.closeWrite()
            await stream.close()
        }
        _ = try await a.host.dial(try b.address)
        try await a.identified(b.peerID)
        return (a, b, outcomes)
    }

    @Test("reset() reaches the peer as a streamReset error, while closeWrite() reaches it as end of stream")
    func resetVersusFin() async throws {
        let net = VirtualNetwork()
        let (a, b, outcomes) = try await self.connectedPair(net)
        var results = outcomes.makeAsyncIterator()

        let finished = try await a.host.newStream(to: b.peerID, protocols: [self.holdProtocol])
        try await finished.write(ByteBuffer(string: "all of it"))
        try await finished.closeWrite()
        #expect(await results.next() == .endOfStream(received: "all of it"))
        await finished.close()

        let aborted = try await a.host.newStream(to: b.peerID, protocols: [self.holdProtocol])
        try await aborted.write(ByteBuffer(string: "part"))
        await aborted.reset()
        let outcome = try #require(await results.next())
        guard case .failed(let code, let received) = outcome else {
            Issue.record("a reset stream ended like a clean one: \(outcome)")
            return
        }
        #expect(code == .streamReset)
        #expect("part".hasPrefix(received))
        // Our own side is over too: reading reports the reset, writing fails.
        await #expect(throws: (any Error).self) { try await aborted.write(ByteBuffer(string: "late")) }
        // A second reset of a closed stream does nothing.
        await aborted.reset()

        await a.host.shutdown()
        await b.host.shutdown()
    }

    @Test("A handler that rejects a malformed message resets its stream: the opener sees streamReset, not EOF")
    func handlerResetsOnMalformedInput() async throws {
        let net = VirtualNetwork()
        let (a, b, _) = try await self.connectedPair(net)

        let good = try await a.host.newStream(to: b.peerID, protocols: [self.strictProtocol])
        try await good.write(ByteBuffer(string: "hello"))
        #expect(await readOutcome(of: good) == .endOfStream(received: "hi"))
        await good.close()

        let bad = try await a.host.newStream(to: b.peerID, protocols: [self.strictProtocol])
        try await bad.write(ByteBuffer(string: "HELLO"))
        #expect(await readOutcome(of: bad) == .failed(.streamReset, received: ""))
        await bad.close()
        // Only that stream ended: the connection still serves others.
        #expect(try await a.host.ping(b.peerID) == [.zero])

        await a.host.shutdown()
        await b.host.shutdown()
    }
}
