// Yamux framing: https://github.com/libp2p/specs/blob/master/yamux/README.md
// and https://github.com/hashicorp/yamux/blob/master/spec.md ("Framing").

package import NIOCore

/// The type field of a Yamux frame header.
package enum YamuxFrameType: UInt8, Hashable, Sendable {
    /// `0x0 Data`: carries `length` payload bytes for a stream.
    case data = 0
    /// `0x1 Window Update`: adds `length` to the receiver's send window of a stream.
    case windowUpdate = 1
    /// `0x2 Ping`: session-level ping; `length` is an opaque value echoed in the reply.
    case ping = 2
    /// `0x3 Go Away`: terminates the session; `length` is the error code.
    case goAway = 3
}

/// The flags field of a Yamux frame header.
package struct YamuxFrameFlags: OptionSet, Hashable, Sendable {
    /// The raw 16-bit flags.
    package var rawValue: UInt16

    /// Makes flags from their raw value.
    package init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// `SYN`: opens a stream, or marks a ping request.
    package static let syn = YamuxFrameFlags(rawValue: 0x1)
    /// `ACK`: acknowledges a stream, or marks a ping reply.
    package static let ack = YamuxFrameFlags(rawValue: 0x2)
    /// `FIN`: half-closes the sender's direction of a stream.
    package static let fin = YamuxFrameFlags(rawValue: 0x4)
    /// `RST`: resets a stream immediately.
    package static let rst = YamuxFrameFlags(rawValue: 0x8)
}

/// The Go Away error codes of the spec.
package enum YamuxGoAwayCode: UInt32, Hashable, Sendable {
    /// `0x0 Normal termination`.
    case normal = 0
    /// `0x1 Protocol error`.
    case protocolError = 1
    /// `0x2 Internal error`.
    case internalError = 2
}

/// The fixed 12-byte Yamux frame header, all fields big-endian.
package struct YamuxFrameHeader: Hashable, Sendable {
    /// The encoded size of a header.
    package static let size = 12
    /// The only protocol version defined by the spec.
    package static let version: UInt8 = 0

    /// The frame type.
    package var type: YamuxFrameType
    /// The frame flags.
    package var flags: YamuxFrameFlags
    /// The stream the frame belongs to; 0 for session frames (Ping, Go Away).
    package var streamID: UInt32
    /// Payload length (Data), window delta (Window Update), opaque value (Ping) or error code (Go Away).
    package var length: UInt32

    /// Makes a header.
    package init(type: YamuxFrameType, flags: YamuxFrameFlags, streamID: UInt32, length: UInt32) {
        self.type = type
        self.flags = flags
        self.streamID = streamID
        self.length = length
    }

    /// Appends the 12 encoded bytes to `buffer`.
    package func write(to buffer: inout ByteBuffer) {
        buffer.writeMultipleIntegers(
            YamuxFrameHeader.version,
            self.type.rawValue,
            self.flags.rawValue,
            self.streamID,
            self.length,
            endianness: .big
        )
    }

    /// Reads a header from the front of `buffer` without consuming it.
    ///
    /// - Returns: `nil` when fewer than 12 bytes are readable.
    /// - Throws: ``YamuxError`` for a version other than 0 or an unknown type.
    package static func peek(in buffer: ByteBuffer) throws(YamuxError) -> YamuxFrameHeader? {
        guard
            let (version, type, flags, streamID, length) = buffer.getMultipleIntegers(
                at: buffer.readerIndex,
                endianness: .big,
                as: (UInt8, UInt8, UInt16, UInt32, UInt32).self
            )
        else {
            return nil
        }
        guard version == YamuxFrameHeader.version else {
            throw .unsupportedVersion(version)
        }
        guard let frameType = YamuxFrameType(rawValue: type) else {
            throw .unknownFrameType(type)
        }
        return YamuxFrameHeader(
            type: frameType,
            flags: YamuxFrameFlags(rawValue: flags),
            streamID: streamID,
            length: length
        )
    }
}

extension YamuxFrameHeader {
    /// A Data frame header for `length` payload bytes.
    package static func data(streamID: UInt32, flags: YamuxFrameFlags = [], length: UInt32) -> YamuxFrameHeader {
        YamuxFrameHeader(type: .data, flags: flags, streamID: streamID, length: length)
    }

    /// A Window Update frame header adding `delta` to the peer's send window.
    package static func windowUpdate(
        streamID: UInt32,
        flags: YamuxFrameFlags = [],
        delta: UInt32 = 0
    ) -> YamuxFrameHeader {
        YamuxFrameHeader(type: .windowUpdate, flags: flags, streamID: streamID, length: delta)
    }

    /// A Ping request (`ack == false`, flag SYN) or reply (flag ACK).
    package static func ping(opaque: UInt32, ack: Bool) -> YamuxFrameHeader {
        YamuxFrameHeader(type: .ping, flags: ack ? .ack : .syn, streamID: 0, length: opaque)
    }

    /// A Go Away frame with an error code.
    package static func goAway(_ code: YamuxGoAwayCode) -> YamuxFrameHeader {
        YamuxFrameHeader(type: .goAway, flags: [], streamID: 0, length: code.rawValue)
    }
}
