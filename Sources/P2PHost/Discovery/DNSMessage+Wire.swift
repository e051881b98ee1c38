// Encoding and decoding of DNS messages: RFC 1035 §4.1 (format) and §4.1.4 (name compression), with the limits of
// RFC 6762 §17 (message size) and RFC 1035 §2.3.4 (label and name lengths).

package import NIOCore
import P2PCore

/// Why a DNS message could not be decoded. It travels as the ``P2PHostError/underlying`` error of a
/// ``P2PHostError/Code/protocolViolation`` or ``P2PHostError/Code/messageTooLarge`` error.
enum DNSDecodingFailure: Error, Hashable, Sendable {
    /// The message is larger than ``DNSMessage/maxSize``.
    case messageTooLarge(size: Int)
    /// The input ended inside the named field.
    case truncated(field: String)
    /// A label's length byte uses the reserved prefixes 0b01 or 0b10.
    case reservedLabelType(UInt8)
    /// A compression pointer points at or after itself (which could loop) or past the message.
    case badCompressionPointer(target: Int, at: Int)
    /// A name followed too many compression pointers.
    case tooManyCompressionPointers
    /// A decoded name exceeds 255 bytes.
    case nameTooLong
    /// The section counts promise more entries than the limit.
    case tooManyEntries(Int)
    /// A record's data length does not match what its type requires.
    case badRecordLength(type: DNSRecordType, length: Int)
    /// Bytes were left after the last record.
    case trailingBytes(Int)
}

extension DNSMessage {
    /// The most questions and records one message may declare; more is refused before parsing them.
    package static let maxEntries = 512

    /// The longest compression chain a name may follow.
    static let maxCompressionPointers = 32

    /// Decodes a message from `buffer`'s readable bytes (the buffer itself is not consumed).
    ///
    /// - Throws: ``P2PHostError`` with code `messageTooLarge` above ``maxSize`` and `protocolViolation` for
    ///   malformed input; the message names the problem.
    package init(decoding buffer: ByteBuffer) throws(P2PHostError) {
        try self.init(bytes: buffer.readableBytesView)
    }

    /// Decodes a message from `bytes`.
    ///
    /// - Throws: ``P2PHostError`` with code `messageTooLarge` above ``maxSize`` and `protocolViolation` for
    ///   malformed input; the message names the problem.
    package init(bytes: some Collection<UInt8>) throws(P2PHostError) {
        guard bytes.count <= Self.maxSize else {
            throw P2PHostError(
                .messageTooLarge,
                "DNS message of \(bytes.count) bytes exceeds the mDNS limit of \(Self.maxSize) bytes",
                underlying: DNSDecodingFailure.messageTooLarge(size: bytes.count)
            )
        }
        var reader = DNSReader(bytes: Array(bytes))
        do {
            self = try reader.readMessage()
        } catch {
            throw P2PHostError(.protocolViolation, "malformed DNS message: \(error.explanation)", underlying: error)
        }
    }

    /// The message in wire format, without name compression.
    ///
    /// - Throws: ``P2PHostError`` with code `messageTooLarge` when the result would exceed ``maxSize`` and
    ///   `protocolViolation` when a TXT string exceeds 255 bytes or a count exceeds 65,535.
    package func encoded() throws(P2PHostError) -> [UInt8] {
        var writer = DNSWriter()
        try writer.write(self)
        guard writer.bytes.count <= Self.maxSize else {
            throw P2PHostError(
                .messageTooLarge,
                "DNS message of \(writer.bytes.count) bytes exceeds the mDNS limit of \(Self.maxSize) bytes"
            )
        }
        return writer.bytes
    }
}

extension DNSDecodingFailure {
    /// A sentence naming the problem.
    var explanation: String {
        switch self {
        case .messageTooLarge(let size): "\(size) bytes exceed \(DNSMessage.maxSize)"
        case .truncated(let field): "input ends inside the \(field)"
        case .reservedLabelType(let byte): "label length byte 0x\(String(byte, radix: 16)) uses a reserved type"
        case .badCompressionPointer(let target, let at):
            "compression pointer at offset \(at) points to offset \(target), which is not earlier in the message"
        case .tooManyCompressionPointers:
            "a name follows more than \(DNSMessage.maxCompressionPointers) compression pointers"
        case .nameTooLong: "a name exceeds \(DNSName.maxWireLength) bytes"
        case .tooManyEntries(let count): "the header declares \(count) entries, more than \(DNSMessage.maxEntries)"
        case .badRecordLength(let type, let length): "\(type) record data of \(length) bytes has the wrong length"
        case .trailingBytes(let count): "\(count) bytes follow the last record"
        }
    }
}

/// Reads a message from bytes; every read is bounds-checked.
private struct DNSReader {
    let bytes: [UInt8]
    var offset = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func readMessage() throws(DNSDecodingFailure) -> DNSMessage {
        let id = try self.readUInt16("header")
        let flags = try self.readUInt16("header")
        let questionCount = Int(try self.readUInt16("header"))
        let answerCount = Int(try self.readUInt16("header"))
        let authorityCount = Int(try self.readUInt16("header"))
        let additionalCount = Int(try self.readUInt16("header"))
        let total = questionCount + answerCount + authorityCount + additionalCount
        guard total <= DNSMessage.maxEntries else {
            throw .tooManyEntries(total)
        }
        var message = DNSMessage(id: id, flags: flags)
        for _ in 0..<questionCount {
            message.questions.append(try self.readQuestion())
        }
        for _ in 0..<answerCount {
            message.answers.append(try self.readRecord())
        }
        for _ in 0..<authorityCount {
            message.authorities.append(try self.readRecord())
        }
        for _ in 0..<additionalCount {
            message.additionals.append(try self.readRecord())
        }
        guard self.offset == self.bytes.count else {
            throw .trailingBytes(self.bytes.count - self.offset)
        }
        return message
    }

    private mutating func readQuestion() throws(DNSDecodingFailure) -> DNSQuestion {
        let name = try self.readName("question name")
        let type = DNSRecordType(rawValue: try self.readUInt16("question type"))
        let rawClass = try self.readUInt16("question class")
        return DNSQuestion(
            name: name,
            type: type,
            recordClass: rawClass & 0x7FFF,
            unicastResponse: rawClass & 0x8000 != 0
        )
    }

    private mutating func readRecord() throws(DNSDecodingFailure) -> DNSResourceRecord {
        let name = try self.readName("record name")
        let type = DNSRecordType(rawValue: try self.readUInt16("record type"))
        let rawClass = try self.readUInt16("record class")
        let ttl = try self.readUInt32("record TTL")
        let length = Int(try self.readUInt16("record data length"))
        let start = self.offset
        guard self.bytes.count - start >= length else {
            throw .truncated(field: "\(type) record data")
        }
        let end = start + length
        let data: DNSRecordData
        switch type {
        case .a:
            guard length == 4, let address = IPv4Address(bytes: self.bytes[start..<end]) else {
                throw .badRecordLength(type: type, length: length)
            }
            data = .a(address)
        case .aaaa:
            guard length == 16, let address = IPv6Address(bytes: self.bytes[start..<end]) else {
                throw .badRecordLength(type: type, length: length)
            }
            data = .aaaa(address)
        case .ptr:
            let target = try self.readName("PTR target")
            data = .ptr(target)
        case .srv:
            guard length >= 7 else {
                throw .badRecordLength(type: type, length: length)
            }
            let priority = try self.readUInt16("SRV priority")
            let weight = try self.readUInt16("SRV weight")
            let port = try self.readUInt16("SRV port")
            let target = try self.readName("SRV target")
            data = .srv(priority: priority, weight: weight, port: port, target: target)
        case .txt:
            var strings: [[UInt8]] = []
            var position = start
            while position < end {
                let stringLength = Int(self.bytes[position])
                guard end - position - 1 >= stringLength else {
                    throw .badRecordLength(type: type, length: length)
                }
                strings.append(Array(self.bytes[(position + 1)..<(position + 1 + stringLength)]))
                position += 1 + stringLength
            }
            self.offset = end
            data = .txt(strings)
        default:
            self.offset = end
            data = .other(type: type, bytes: Array(self.bytes[start..<end]))
        }
        if type == .a || type == .aaaa {
            self.offset = end
        }
        guard self.offset == end else {
            throw .badRecordLength(type: type, length: length)
        }
        return DNSResourceRecord(
            name: name,
            ttl: ttl,
            data: data,
            recordClass: rawClass & 0x7FFF,
            cacheFlush: rawClass & 0x8000 != 0
        )
    }

    /// Reads a possibly compressed name; the reader ends after the name's bytes at the current position.
    private mutating func readName(_ field: String) throws(DNSDecodingFailure) -> DNSName {
        var labels: [[UInt8]] = []
        var wireLength = 1
        var position = self.offset
        var resumeAt: Int?
        var jumps = 0
        while true {
            guard position < self.bytes.count else {
                throw .truncated(field: field)
            }
            let length = self.bytes[position]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    self.offset = resumeAt ?? position + 1
                    // Every label was checked below, so this cannot fail.
                    guard let name = try? DNSName(labels: labels) else { throw .nameTooLong }
                    return name
                }
                let start = position + 1
                let end = start + Int(length)
                guard end <= self.bytes.count else {
                    throw .truncated(field: field)
                }
                wireLength += 1 + Int(length)
                guard wireLength <= DNSName.maxWireLength else {
                    throw .nameTooLong
                }
                labels.append(Array(self.bytes[start..<end]))
                position = end
            case 0xC0:
                guard position + 1 < self.bytes.count else {
                    throw .truncated(field: field)
                }
                let target = Int(length & 0x3F) << 8 | Int(self.bytes[position + 1])
                // Only backward pointers: a chain of them must end, so no loop is possible.
                guard target < position else {
                    throw .badCompressionPointer(target: target, at: position)
                }
                jumps += 1
                guard jumps <= DNSMessage.maxCompressionPointers else {
                    throw .tooManyCompressionPointers
                }
                if resumeAt == nil {
                    resumeAt = position + 2
                }
                position = target
            default:
                throw .reservedLabelType(length)
            }
        }
    }

    private mutating func readUInt16(_ field: String) throws(DNSDecodingFailure) -> UInt16 {
        guard self.bytes.count - self.offset >= 2 else {
            throw .truncated(field: field)
        }
        defer { self.offset += 2 }
        return UInt16(self.bytes[self.offset]) << 8 | UInt16(self.bytes[self.offset + 1])
    }

    private mutating func readUInt32(_ field: String) throws(DNSDecodingFailure) -> UInt32 {
        let high = UInt32(try self.readUInt16(field))
        let low = UInt32(try self.readUInt16(field))
        return high << 16 | low
    }
}

/// Writes a message without compression.
private struct DNSWriter {
    var bytes: [UInt8] = []

    mutating func write(_ message: DNSMessage) throws(P2PHostError) {
        self.writeUInt16(message.id)
        self.writeUInt16(message.flags)
        for count in [message.questions.count, message.answers.count, message.authorities.count] {
            try self.writeCount(count)
        }
        try self.writeCount(message.additionals.count)
        for question in message.questions {
            self.writeName(question.name)
            self.writeUInt16(question.type.rawValue)
            self.writeUInt16(question.recordClass & 0x7FFF | (question.unicastResponse ? 0x8000 : 0))
        }
        for record in message.answers + message.authorities + message.additionals {
            try self.writeRecord(record)
        }
    }

    private mutating func writeCount(_ count: Int) throws(P2PHostError) {
        guard let value = UInt16(exactly: count) else {
            throw P2PHostError(.protocolViolation, "a DNS section of \(count) entries exceeds 65,535")
        }
        self.writeUInt16(value)
    }

    private mutating func writeRecord(_ record: DNSResourceRecord) throws(P2PHostError) {
        self.writeName(record.name)
        self.writeUInt16(record.data.type.rawValue)
        self.writeUInt16(record.recordClass & 0x7FFF | (record.cacheFlush ? 0x8000 : 0))
        self.writeUInt16(UInt16(truncatingIfNeeded: record.ttl >> 16))
        self.writeUInt16(UInt16(truncatingIfNeeded: record.ttl))
        let lengthAt = self.bytes.count
        self.writeUInt16(0)
        switch record.data {
        case .ptr(let target):
            self.writeName(target)
        case .txt(let strings):
            for string in strings {
                guard let length = UInt8(exactly: string.count) else {
                    throw P2PHostError(.protocolViolation, "TXT string of \(string.count) bytes exceeds 255 bytes")
                }
                self.bytes.append(length)
                self.bytes += string
            }
        case .a(let address):
            self.bytes += address.bytes
        case .aaaa(let address):
            self.bytes += address.bytes
        case .srv(let priority, let weight, let port, let target):
            self.writeUInt16(priority)
            self.writeUInt16(weight)
            self.writeUInt16(port)
            self.writeName(target)
        case .other(_, let data):
            self.bytes += data
        }
        let length = self.bytes.count - lengthAt - 2
        guard let value = UInt16(exactly: length) else {
            throw P2PHostError(.messageTooLarge, "DNS record data of \(length) bytes exceeds 65,535")
        }
        self.bytes[lengthAt] = UInt8(value >> 8)
        self.bytes[lengthAt + 1] = UInt8(value & 0xFF)
    }

    /// Names are valid by construction (``DNSName/init(labels:)`` checks the lengths).
    private mutating func writeName(_ name: DNSName) {
        for label in name.labels {
            self.bytes.append(UInt8(label.count))
            self.bytes += label
        }
        self.bytes.append(0)
    }

    private mutating func writeUInt16(_ value: UInt16) {
        self.bytes.append(UInt8(value >> 8))
        self.bytes.append(UInt8(value & 0xFF))
    }
}
