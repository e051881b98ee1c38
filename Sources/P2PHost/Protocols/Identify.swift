import NIOCore
import P2PCore

/// Identify `/ipfs/id/1.0.0` (https://github.com/libp2p/specs/blob/master/identify/README.md).
///
/// The responder writes one length-prefixed ``IdentifyMessage`` and closes. The asker reads until end of stream and
/// merges every length-prefixed message (go-libp2p splits large ones), within size and count limits. The host asks
/// and answers on the connection's event loop (``IdentifyReplyCollector``, ``ConnectionUpgrader``); ``respond(on:with:)``
/// answers on a ``P2PStream`` when that path is off. Pushes (`/ipfs/id/push/1.0.0`) go over ``P2PStream``s.
enum Identify {
    /// The protocol ID.
    static let protocolID = "/ipfs/id/1.0.0"
    /// The identify push protocol ID: the sender opens the stream, writes its (possibly partial) message, closes.
    static let pushProtocolID = "/ipfs/id/push/1.0.0"
    /// The most bytes read from one identify stream.
    static let maxStreamBytes = IdentifyMessage.maxMessageSize * 2

    /// `encoded` (an encoded ``IdentifyMessage``) with its varint length prefix, as identify and push send it.
    static func framed(_ encoded: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: encoded.count + 3)
        buffer.writeUVarintLengthPrefixed(encoded)
        return buffer
    }

    /// Answers an identify request: writes `message` and closes the stream.
    static func respond(on stream: P2PStream, with message: IdentifyMessage) async throws {
        try await stream.write(Self.framed(message.encoded, allocator: stream.allocator))
        try await stream.closeWrite()
        await stream.close()
    }

    /// Pushes `message` to the peer: writes it, closes our side, then waits for the peer to close (a bad push is
    /// answered with a reset, which this reports as ``P2PHostError/Code/streamReset``).
    static func push(_ message: IdentifyMessage, on stream: P2PStream) async throws {
        do {
            try await stream.write(Self.framed(message.encoded, allocator: stream.allocator))
            try await stream.closeWrite()
            _ = try await stream.readToEnd(maxBytes: 0)
        } catch {
            await stream.close()
            throw error
        }
        await stream.close()
    }

    /// Reads a pushed identify message until end of stream (at most ``maxStreamBytes``, merged like a reply). The
    /// caller closes the stream, or resets it when the push is refused.
    static func receivePush(on stream: P2PStream) async throws -> IdentifyMessage {
        var bytes = try await stream.readToEnd(maxBytes: Self.maxStreamBytes)
        return try Self.decodeReply(&bytes)
    }

    /// Decodes a whole identify reply: one or more length-prefixed messages, merged.
    static func decodeReply(_ bytes: inout ByteBuffer) throws(P2PHostError) -> IdentifyMessage {
        var message = IdentifyMessage()
        var count = 0
        while bytes.readableBytes > 0 {
            count += 1
            guard count <= IdentifyMessage.maxMessageCount else {
                throw P2PHostError(
                    .messageTooLarge,
                    "identify reply has more than \(IdentifyMessage.maxMessageCount) messages"
                )
            }
            let frame: ByteBuffer?
            do {
                frame = try bytes.readUVarintLengthPrefixedSlice(maxLength: IdentifyMessage.maxMessageSize)
            } catch  where error.code == .tooLarge {
                throw P2PHostError(
                    .messageTooLarge,
                    "identify message exceeds \(IdentifyMessage.maxMessageSize) bytes",
                    underlying: error
                )
            } catch {
                throw P2PHostError(.protocolViolation, "bad identify message length prefix", underlying: error)
            }
            guard let frame else {
                throw P2PHostError(.protocolViolation, "identify reply ends inside a message")
            }
            try message.merge(encoded: frame.readableBytesView)
        }
        guard count > 0 else {
            throw P2PHostError(.protocolViolation, "identify reply is empty")
        }
        return message
    }
}
