/// The browsers' native messaging framing (Chrome, Chromium, Firefox): each message is a 32-bit length in
/// native byte order followed by that many bytes of UTF-8 JSON.
///
/// Limits: we accept messages of at most ``maximumIncomingBytes`` (1 MiB) from the browser, and send at most
/// ``maximumOutgoingBytes`` (1 MB, Chrome's limit for messages from a native host).
public enum NativeMessageFraming {
    /// The largest message accepted from the browser: 1 MiB.
    public static let maximumIncomingBytes = 1 << 20
    /// The largest message sent to the browser: 1 MB (Chrome's limit).
    public static let maximumOutgoingBytes = 1_000_000

    /// `message` with its length prefix.
    /// - Throws: ``NodeRuntimeError/Code/invalidMessage`` when `message` exceeds ``maximumOutgoingBytes``.
    public static func frame(_ message: [UInt8]) throws(NodeRuntimeError) -> [UInt8] {
        guard message.count <= Self.maximumOutgoingBytes else {
            throw NodeRuntimeError(
                .invalidMessage,
                "a \(message.count)-byte message exceeds the \(Self.maximumOutgoingBytes)-byte limit for the browser"
            )
        }
        return Self.lengthPrefix(UInt32(message.count)) + message
    }

    /// The 4-byte prefix of a `length`-byte message, in native byte order.
    static func lengthPrefix(_ length: UInt32) -> [UInt8] {
        withUnsafeBytes(of: length) { Array($0) }
    }
}

/// Splits a byte stream from the browser into messages. A pure state machine: feed it bytes as they arrive
/// with ``append(_:)``, take events with ``next()``, and call ``finish()`` at end of input.
///
/// A frame longer than the limit is not buffered: its bytes are skipped and one ``Event/oversized(length:)``
/// is reported, after which decoding continues with the next frame (the stream is still framed).
public struct NativeMessageFrameDecoder: Sendable {
    /// What the decoder found.
    public enum Event: Hashable, Sendable {
        /// A complete message (its bytes, without the prefix).
        case message([UInt8])
        /// A frame declared `length` bytes, above the limit; its bytes are skipped.
        case oversized(length: Int)
    }

    /// How the input ended.
    public enum Ending: Hashable, Sendable {
        /// At a frame boundary.
        case clean
        /// In the middle of a frame, `missingBytes` short of its end.
        case truncated(missingBytes: Int)
    }

    private enum State: Hashable {
        case header
        case body(length: Int)
        case skipping(remaining: Int)
    }

    /// The limit on one message.
    public let maximumMessageBytes: Int
    private var state: State = .header
    private var buffer: [UInt8] = []
    private var readIndex = 0

    /// A decoder with the given limit (default 1 MiB).
    public init(maximumMessageBytes: Int = NativeMessageFraming.maximumIncomingBytes) {
        self.maximumMessageBytes = maximumMessageBytes
    }

    /// Adds bytes read from the input.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if self.readIndex > 0, self.readIndex >= self.buffer.count / 2 {
            self.buffer.removeFirst(self.readIndex)
            self.readIndex = 0
        }
        self.buffer.append(contentsOf: bytes)
    }

    /// The next event, or `nil` when more input is needed.
    public mutating func next() -> Event? {
        while true {
            let available = self.buffer.count - self.readIndex
            switch self.state {
            case .header:
                guard available >= 4 else { return nil }
                var length: UInt32 = 0
                withUnsafeMutableBytes(of: &length) { raw in
                    for offset in 0..<4 { raw[offset] = self.buffer[self.readIndex + offset] }
                }
                self.readIndex += 4
                let size = Int(length)
                if size > self.maximumMessageBytes {
                    self.state = .skipping(remaining: size)
                    return .oversized(length: size)
                }
                self.state = .body(length: size)
            case .body(let length):
                guard available >= length else { return nil }
                let message = Array(self.buffer[self.readIndex..<(self.readIndex + length)])
                self.readIndex += length
                self.state = .header
                return .message(message)
            case .skipping(let remaining):
                let dropped = min(remaining, available)
                self.readIndex += dropped
                if dropped == remaining {
                    self.state = .header
                } else {
                    self.state = .skipping(remaining: remaining - dropped)
                    return nil
                }
            }
        }
    }

    /// How the input ended; call after the last ``next()`` returned `nil` at end of input.
    public func finish() -> Ending {
        let available = self.buffer.count - self.readIndex
        switch self.state {
        case .header:
            return available == 0 ? .clean : .truncated(missingBytes: 4 - available)
        case .body(let length):
            return .truncated(missingBytes: length - available)
        case .skipping(let remaining):
            return .truncated(missingBytes: remaining)
        }
    }
}
