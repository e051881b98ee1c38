public import NIOCore

/// Decodes protobuf fields one at a time, with a size limit.
///
/// The reader does not know any schema: callers switch over ``ProtobufField/number`` and ignore the
/// numbers they do not know, which is how protobuf skips unknown fields. Varints may be up to 10
/// bytes and need not be minimal (protobuf rules, not multiformats rules).
///
/// ```swift
/// var reader = try ProtobufReader(bytes)
/// while let field = try reader.next() {
///     switch field.number {
///     case 1: keyType = try field.varintValue()
///     case 2: data = try field.bytesValue()
///     default: continue  // unknown field
///     }
/// }
/// ```
public struct ProtobufReader: Sendable {
    /// The default limit on the size of a message: 1 MiB.
    public static let defaultMaxMessageSize = 1 << 20
    /// The largest legal field number.
    public static let maxFieldNumber = (1 << 29) - 1

    private var remaining: ArraySlice<UInt8>

    /// Creates a reader over `bytes`.
    ///
    /// - Throws: ``P2PCoreError/Code/tooLarge`` when `bytes` is longer than `maxMessageSize`.
    public init<Bytes: Collection<UInt8>>(_ bytes: Bytes, maxMessageSize: Int = Self.defaultMaxMessageSize) throws {
        guard bytes.count <= maxMessageSize else {
            throw P2PCoreError(
                .tooLarge,
                "protobuf message of \(bytes.count) bytes exceeds the limit of \(maxMessageSize)"
            )
        }
        // Contiguous bytes (arrays, slices, ByteBuffer views) are copied in one go, not element by element through
        // the generic collection.
        self.remaining = bytes.withContiguousStorageIfAvailable { ArraySlice($0) } ?? ArraySlice(bytes)
    }

    /// Creates a reader over the readable bytes of `buffer` (the buffer is not consumed).
    public init(buffer: ByteBuffer, maxMessageSize: Int = Self.defaultMaxMessageSize) throws {
        try self.init(buffer.readableBytesView, maxMessageSize: maxMessageSize)
    }

    /// Whether every byte has been read.
    public var isAtEnd: Bool { self.remaining.isEmpty }

    /// Reads the next field, or returns `nil` at the end of the message.
    ///
    /// - Throws: ``P2PCoreError/Code/malformedProtobuf`` (bad key, group wire type, field 0,
    ///   truncated value) or a varint error.
    public mutating func next() throws -> ProtobufField? {
        guard !self.remaining.isEmpty else { return nil }
        let key = try self.readVarint(what: "field key")
        let number = key >> 3
        guard number >= 1 && number <= UInt64(Self.maxFieldNumber) else {
            throw P2PCoreError(.malformedProtobuf, "invalid field number \(number)")
        }
        let field = Int(number)
        switch key & 0x7 {
        case UInt64(ProtobufWireType.varint.rawValue):
            return ProtobufField(number: field, value: .varint(try self.readVarint(what: "field \(field)")))
        case UInt64(ProtobufWireType.fixed64.rawValue):
            let raw = try self.readFixed(byteCount: 8, field: field)
            return ProtobufField(number: field, value: .fixed64(raw))
        case UInt64(ProtobufWireType.lengthDelimited.rawValue):
            let length = try self.readVarint(what: "length of field \(field)")
            guard length <= UInt64(self.remaining.count) else {
                throw P2PCoreError(
                    .malformedProtobuf,
                    "field \(field) claims \(length) bytes but only \(self.remaining.count) remain"
                )
            }
            let value = self.remaining.prefix(Int(length))
            self.remaining = self.remaining.dropFirst(Int(length))
            return ProtobufField(number: field, value: .lengthDelimited(value))
        case UInt64(ProtobufWireType.fixed32.rawValue):
            let raw = try self.readFixed(byteCount: 4, field: field)
            return ProtobufField(number: field, value: .fixed32(UInt32(truncatingIfNeeded: raw)))
        default:
            throw P2PCoreError(.malformedProtobuf, "field \(field) has unsupported wire type \(key & 0x7)")
        }
    }

    private mutating func readVarint(what: String) throws -> UInt64 {
        let decoded: (value: UInt64, length: Int)?
        do {
            decoded = try Varint.decodePrefix(self.remaining, maxLength: 10, requireMinimal: false)
        } catch {
            throw P2PCoreError(.malformedProtobuf, "\(what): \(error.message)", underlying: error)
        }
        guard let (value, length) = decoded else {
            throw P2PCoreError(.malformedProtobuf, "\(what) is truncated")
        }
        self.remaining = self.remaining.dropFirst(length)
        return value
    }

    private mutating func readFixed(byteCount: Int, field: Int) throws -> UInt64 {
        guard self.remaining.count >= byteCount else {
            throw P2PCoreError(.malformedProtobuf, "field \(field) is truncated")
        }
        var value: UInt64 = 0
        for (index, byte) in self.remaining.prefix(byteCount).enumerated() {
            value |= UInt64(byte) << (8 * UInt64(index))
        }
        self.remaining = self.remaining.dropFirst(byteCount)
        return value
    }
}
