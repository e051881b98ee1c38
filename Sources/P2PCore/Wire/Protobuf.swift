public import NIOCore

/// Protobuf wire types (https://protobuf.dev/programming-guides/encoding/#structure).
///
/// Groups (wire types 3 and 4) are deprecated and rejected by ``ProtobufReader``.
public enum ProtobufWireType: UInt8, Hashable, Sendable {
    /// int32, int64, uint32, uint64, sint32, sint64, bool, enum.
    case varint = 0
    /// fixed64, sfixed64, double.
    case fixed64 = 1
    /// string, bytes, embedded messages, packed repeated fields.
    case lengthDelimited = 2
    /// fixed32, sfixed32, float.
    case fixed32 = 5
}

/// One decoded protobuf field: its number and its raw value.
public struct ProtobufField: Hashable, Sendable {
    /// The value of a field, as found on the wire.
    public enum Value: Hashable, Sendable {
        /// A varint (wire type 0).
        case varint(UInt64)
        /// A little-endian 64-bit value (wire type 1).
        case fixed64(UInt64)
        /// A length-delimited value (wire type 2): bytes, a string or an embedded message.
        case lengthDelimited(ArraySlice<UInt8>)
        /// A little-endian 32-bit value (wire type 5).
        case fixed32(UInt32)
    }

    /// The field number (1 to 2^29 − 1).
    public var number: Int
    /// The field's value.
    public var value: Value

    /// The value as an unsigned integer, or an error naming the field if it has another wire type.
    public func varintValue() throws -> UInt64 {
        guard case .varint(let value) = self.value else {
            throw P2PCoreError(.malformedProtobuf, "field \(self.number) should be a varint")
        }
        return value
    }

    /// The value as bytes, or an error naming the field if it has another wire type.
    public func bytesValue() throws -> ArraySlice<UInt8> {
        guard case .lengthDelimited(let bytes) = self.value else {
            throw P2PCoreError(.malformedProtobuf, "field \(self.number) should be length-delimited")
        }
        return bytes
    }

    /// The value as a UTF-8 string, or an error if it has another wire type or is not valid UTF-8.
    public func stringValue() throws -> String {
        let bytes = try self.bytesValue()
        guard let string = UTF8Text.decode(bytes) else {
            throw P2PCoreError(.malformedProtobuf, "field \(self.number) is not valid UTF-8")
        }
        return string
    }

    /// The value as a bool (any non-zero varint is `true`).
    public func boolValue() throws -> Bool {
        try self.varintValue() != 0
    }
}

/// Encodes protobuf fields into a byte array, in the order they are written.
///
/// Write fields in increasing field-number order to get the deterministic encoding that libp2p
/// requires for keys (`peer-ids.md`).
public struct ProtobufWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// Creates an empty writer.
    public init() {
        self.bytes = []
    }

    private mutating func writeKey(_ field: Int, _ wireType: ProtobufWireType) {
        precondition(field >= 1 && field <= ProtobufReader.maxFieldNumber, "invalid protobuf field number \(field)")
        Varint.append(UInt64(field) << 3 | UInt64(wireType.rawValue), to: &self.bytes)
    }

    /// Writes a varint field (uint32, uint64, enum, or a non-negative int32/int64).
    public mutating func writeVarint(field: Int, _ value: UInt64) {
        self.writeKey(field, .varint)
        Varint.append(value, to: &self.bytes)
    }

    /// Writes a bool field as a varint 0 or 1.
    public mutating func writeBool(field: Int, _ value: Bool) {
        self.writeVarint(field: field, value ? 1 : 0)
    }

    /// Writes a length-delimited bytes field.
    public mutating func writeBytes<Bytes: Collection<UInt8>>(field: Int, _ value: Bytes) {
        self.writeKey(field, .lengthDelimited)
        Varint.append(UInt64(value.count), to: &self.bytes)
        self.bytes.append(contentsOf: value)
    }

    /// Writes a string field as its UTF-8 bytes.
    public mutating func writeString(field: Int, _ value: String) {
        self.writeBytes(field: field, value.utf8)
    }

    /// Writes an embedded message built by `body`.
    public mutating func writeMessage(field: Int, _ body: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        body(&inner)
        self.writeBytes(field: field, inner.bytes)
    }

    /// Writes a fixed64 field (little-endian).
    public mutating func writeFixed64(field: Int, _ value: UInt64) {
        self.writeKey(field, .fixed64)
        withUnsafeBytes(of: value.littleEndian) { self.bytes.append(contentsOf: $0) }
    }

    /// Writes a fixed32 field (little-endian).
    public mutating func writeFixed32(field: Int, _ value: UInt32) {
        self.writeKey(field, .fixed32)
        withUnsafeBytes(of: value.littleEndian) { self.bytes.append(contentsOf: $0) }
    }
}

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
        self.remaining = ArraySlice(bytes)
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
        } catch let error as P2PCoreError {
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
