import NIOCore

/// Ping `/ipfs/ping/1.0.0` (https://github.com/libp2p/specs/blob/master/ping/ping.md) over a ``P2PStream``.
///
/// The dialer writes 32 random bytes and waits for the same 32 bytes back; the responder echoes every 32-byte
/// payload until the stream ends.
enum Ping {
    /// The protocol ID.
    static let protocolID = "/ipfs/ping/1.0.0"
    /// The payload size.
    static let payloadSize = 32

    /// Echoes 32-byte payloads until the peer closes its side, then closes.
    static func respond(on stream: P2PStream) async throws {
        var pending = stream.allocator.buffer(capacity: Self.payloadSize)
        while var next = try await stream.read() {
            pending.writeBuffer(&next)
            while pending.readableBytes >= Self.payloadSize, let payload = pending.readSlice(length: Self.payloadSize) {
                try await stream.write(payload)
            }
            pending.discardReadBytes()
        }
        await stream.close()
    }

    /// Sends one ping with `payload` and returns the time until the full echo came back.
    ///
    /// - Throws: ``P2PHostError/Code/protocolViolation`` when the echo differs from the payload.
    static func ping<C: Clock>(on stream: P2PStream, payload: [UInt8], clock: C) async throws -> C.Duration {
        precondition(payload.count == Self.payloadSize, "ping payloads are 32 bytes")
        let start = clock.now
        try await stream.write(ByteBuffer(bytes: payload))
        let echo = try await stream.read(exactly: Self.payloadSize)
        let elapsed = start.duration(to: clock.now)
        guard echo.readableBytesView.elementsEqual(payload) else {
            throw P2PHostError(.protocolViolation, "ping echo does not match the payload")
        }
        return elapsed
    }

    /// 32 random bytes.
    static func makePayload<R: RandomNumberGenerator>(using generator: inout R) -> [UInt8] {
        (0..<Self.payloadSize).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}
