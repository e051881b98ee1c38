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
