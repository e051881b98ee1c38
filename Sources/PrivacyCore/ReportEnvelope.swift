/// The fixed-size binary envelope of one wire report (privacy-design.md, "Envelope"), protocol v1.
///
/// Exactly 512 bytes, big-endian:
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | magic `PTCR` |
/// | 4 | 1 | protocol version (1) |
/// | 5 | 1 | report type (index in ``ReportType/allCases``) |
/// | 6 | 1 | randomizer id (``RandomizerID``) |
/// | 7 | 3 | value bytes (see below; unused bytes are 0) |
/// | 10 | 2 | ε in thousandths (must equal the type's fixed ε) |
/// | 12 | 4 | epoch number |
/// | 16 | 8 | proof-of-work nonce |
/// | 24 | 488 | zero padding |
///
/// Value bytes: score `[decile]`; trackers `[bucket]`; risk `[bucket]`; category `[category index]`;
/// regionGrade `[region index, grade index]`; tool `[tool index, is A-grade 0/1, uses tool 0/1]`.
/// Nothing else is carried: no peer id, key, signature, sequence number, time or free text.
public struct ReportEnvelope: Hashable, Sendable {
    /// The envelope size in bytes.
    public static let size = 512
    /// The magic bytes, "PTCR" (Phantom Trail Community Report).
    public static let magic: [UInt8] = Array("PTCR".utf8)
    /// The protocol version this code speaks.
    public static let protocolVersion: UInt8 = 1

    static let versionOffset = 4
    static let typeOffset = 5
    static let randomizerOffset = 6
    static let valueOffset = 7
    static let epsilonOffset = 10
    static let epochOffset = 12
    static let nonceOffset = 16
    static let paddingOffset = 24

    /// The epoch the report belongs to.
    public let epoch: UInt32
    /// The randomized report.
    public let report: WireReport
    /// The proof-of-work nonce.
    public var nonce: UInt64

    /// An envelope for a report.
    /// - Throws: ``ReportEnvelopeError/valueOutOfDomain(field:value:)`` if a value is outside its domain.
    public init(epoch: UInt32, report: WireReport, nonce: UInt64 = 0) throws(ReportEnvelopeError) {
        for (field, value, domain) in Self.valueFields(of: report) where !(0..<domain).contains(value) {
            throw .valueOutOfDomain(field: field, value: value)
        }
        self.epoch = epoch
        self.report = report
        self.nonce = nonce
    }

    /// The randomizer the report was made with (one scheme in protocol v1).
    public var randomizerID: RandomizerID { .twoLayerGRR }

    /// The 512 bytes of the envelope.
    public func encode() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        bytes.replaceSubrange(0..<4, with: Self.magic)
        bytes[Self.versionOffset] = Self.protocolVersion
        bytes[Self.typeOffset] = UInt8(self.report.type.index)
        bytes[Self.randomizerOffset] = self.randomizerID.rawValue
        for (offset, field) in Self.valueFields(of: self.report).enumerated() {
            bytes[Self.valueOffset + offset] = UInt8(field.value)
        }
        let epsilon = bigEndianBytes(Self.epsilonThousandths(self.report.type.epsilon))
        bytes.replaceSubrange(Self.epsilonOffset..<Self.epsilonOffset + 2, with: epsilon)
        bytes.replaceSubrange(Self.epochOffset..<Self.epochOffset + 4, with: bigEndianBytes(self.epoch))
        bytes.replaceSubrange(Self.nonceOffset..<Self.nonceOffset + 8, with: bigEndianBytes(self.nonce))
        return bytes
    }

    /// Decodes an envelope, rejecting anything but a well-formed v1 envelope.
    /// - Throws: ``ReportEnvelopeError``, one distinct case per kind of defect.
    public init(decoding input: some Collection<UInt8>) throws(ReportEnvelopeError) {
        guard input.count == Self.size else { throw .wrongLength(input.count) }
        let bytes = Array(input)
        guard Array(bytes[0..<4]) == Self.magic else { throw .badMagic }
        guard bytes[Self.versionOffset] == Self.protocolVersion else {
            throw .unsupportedVersion(bytes[Self.versionOffset])
        }
        let typeByte = bytes[Self.typeOffset]
        guard Int(typeByte) < ReportType.allCases.count else { throw .unknownReportType(typeByte) }
        let type = ReportType.allCases[Int(typeByte)]
        guard RandomizerID(rawValue: bytes[Self.randomizerOffset]) != nil else {
            throw .unknownRandomizer(bytes[Self.randomizerOffset])
        }
        let epsilon = UInt16(bytes[Self.epsilonOffset]) << 8 | UInt16(bytes[Self.epsilonOffset + 1])
        guard epsilon == Self.epsilonThousandths(type.epsilon) else {
            throw .epsilonMismatch(type: type, thousandths: epsilon)
        }
        // Word-wise: every received envelope passes here, and a byte-wise search is slow in debug builds.
        let paddingIsZero = bytes.withUnsafeBytes { raw in
            var bits: UInt64 = 0
            var offset = Self.paddingOffset
            while offset + 8 <= Self.size {
                bits |= raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                offset += 8
            }
            while offset < Self.size {
                bits |= UInt64(raw[offset])
                offset += 1
            }
            return bits == 0
        }
        if !paddingIsZero, let offset = (Self.paddingOffset..<Self.size).first(where: { bytes[$0] != 0 }) {
            throw .nonZeroPadding(offset: offset)
        }
        let values = (0..<3).map { Int(bytes[Self.valueOffset + $0]) }
        let report = try Self.report(of: type, values: values)
        self.report = report
        self.epoch = bytes[Self.epochOffset..<Self.epochOffset + 4].reduce(0) { $0 << 8 | UInt32($1) }
        self.nonce = bytes[Self.nonceOffset..<Self.nonceOffset + 8].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// ε in thousandths, the envelope's exact encoding of ε.
    static func epsilonThousandths(_ epsilon: Double) -> UInt16 {
        UInt16((epsilon * 1000).rounded())
    }

    private static func report(of type: ReportType, values: [Int]) throws(ReportEnvelopeError) -> WireReport {
        func field(_ position: Int, _ name: String, below domain: Int) throws(ReportEnvelopeError) -> Int {
            guard values[position] < domain else { throw .valueOutOfDomain(field: name, value: values[position]) }
            return values[position]
        }
        func unused(from position: Int) throws(ReportEnvelopeError) {
            if let extra = (position..<3).first(where: { values[$0] != 0 }) {
                throw .unusedValueByteNotZero(offset: Self.valueOffset + extra)
            }
        }
        let report: WireReport
        switch type {
        case .score:
            report = .score(decile: try field(0, "decile", below: type.domainSize))
            try unused(from: 1)
        case .trackers:
            report = .trackers(bucket: try field(0, "trackers bucket", below: type.domainSize))
            try unused(from: 1)
        case .risk:
            report = .risk(bucket: try field(0, "risk bucket", below: type.domainSize))
            try unused(from: 1)
        case .category:
            report = .category(SiteCategory.allCases[try field(0, "category", below: SiteCategory.allCases.count)])
            try unused(from: 1)
        case .regionGrade:
            let region = Region.allCases[try field(0, "region", below: Region.allCases.count)]
            let grade = Grade.allCases[try field(1, "grade", below: Grade.allCases.count)]
            report = .regionGrade(region: region, grade: grade)
            try unused(from: 2)
        case .tool:
            let tool = ProtectionTool.allCases[try field(0, "tool", below: ProtectionTool.allCases.count)]
            let isAGrade = try field(1, "is A-grade", below: 2) == 1
            let usesTool = try field(2, "uses tool", below: 2) == 1
            report = .tool(tool, isAGrade: isAGrade, usesTool: usesTool)
        }
        return report
    }

    /// The value bytes of a report: (field name, value, domain size).
    private static func valueFields(of report: WireReport) -> [(name: String, value: Int, domain: Int)] {
        switch report {
        case .score(let decile): [("decile", decile, ReportType.score.domainSize)]
        case .trackers(let bucket): [("trackers bucket", bucket, ReportType.trackers.domainSize)]
        case .risk(let bucket): [("risk bucket", bucket, ReportType.risk.domainSize)]
        case .category(let category): [("category", category.index, SiteCategory.allCases.count)]
        case .regionGrade(let region, let grade):
            [("region", region.index, Region.allCases.count), ("grade", grade.index, Grade.allCases.count)]
        case .tool(let tool, let isAGrade, let usesTool):
            [
                ("tool", tool.index, ProtectionTool.allCases.count), ("is A-grade", isAGrade ? 1 : 0, 2),
                ("uses tool", usesTool ? 1 : 0, 2),
            ]
        }
    }

    /// Checks an envelope against the receiving node's network and epoch: the epoch must be the
    /// current or the previous one, and the proof of work must meet the network's difficulty with the
    /// network's digest as salt.
    /// - Throws: ``ReportAdmissionError``.
    public func validate(parameters: NetworkParameters, currentEpoch: UInt32) throws(ReportAdmissionError) {
        guard self.epoch == currentEpoch || (currentEpoch > 0 && self.epoch == currentEpoch - 1) else {
            throw .wrongEpoch(epoch: self.epoch, current: currentEpoch)
        }
        let bits = ProofOfWork.leadingZeroBits(of: ProofOfWork.work(for: self, parameters: parameters))
        guard bits >= parameters.difficultyBits else {
            throw .insufficientWork(leadingZeroBits: bits, required: parameters.difficultyBits)
        }
    }
}

/// The randomizer scheme named in an envelope.
public enum RandomizerID: UInt8, CaseIterable, Sendable {
    /// ``TwoLayerRandomizer``: memoized GRR with ε = 4, then a fresh GRR; effective GRR with the type's ε.
    case twoLayerGRR = 1
}

/// Why bytes are not a valid envelope (or a report cannot be put in one).
public enum ReportEnvelopeError: Error, Equatable, CustomStringConvertible {
    /// Not exactly 512 bytes.
    case wrongLength(Int)
    /// The first four bytes are not "PTCR".
    case badMagic
    /// A protocol version this node does not speak.
    case unsupportedVersion(UInt8)
    /// A report type byte outside the six types.
    case unknownReportType(UInt8)
    /// A randomizer id this node does not know.
    case unknownRandomizer(UInt8)
    /// The ε field is not the type's fixed ε (in thousandths).
    case epsilonMismatch(type: ReportType, thousandths: UInt16)
    /// A value outside its domain.
    case valueOutOfDomain(field: String, value: Int)
    /// A value byte the type does not use is not zero.
    case unusedValueByteNotZero(offset: Int)
    /// A padding byte is not zero.
    case nonZeroPadding(offset: Int)

    public var description: String {
        switch self {
        case .wrongLength(let count): "envelope: expected \(ReportEnvelope.size) bytes, got \(count)"
        case .badMagic: "envelope: bad magic (not a Phantom Trail report)"
        case .unsupportedVersion(let version): "envelope: unsupported protocol version \(version)"
        case .unknownReportType(let type): "envelope: unknown report type \(type)"
        case .unknownRandomizer(let id): "envelope: unknown randomizer id \(id)"
        case .epsilonMismatch(let type, let thousandths):
            "envelope: ε \(Double(thousandths) / 1000) is not the fixed ε \(type.epsilon) of \(type.rawValue) reports"
        case .valueOutOfDomain(let field, let value): "envelope: \(field) value \(value) is out of its domain"
        case .unusedValueByteNotZero(let offset): "envelope: unused value byte at offset \(offset) is not zero"
        case .nonZeroPadding(let offset): "envelope: padding byte at offset \(offset) is not zero"
        }
    }
}

/// Why a well-formed envelope is not admitted by a node.
public enum ReportAdmissionError: Error, Equatable, CustomStringConvertible {
    /// Not from the current or the previous epoch.
    case wrongEpoch(epoch: UInt32, current: UInt32)
    /// Too little proof of work (or work bound to other network parameters).
    case insufficientWork(leadingZeroBits: Int, required: Int)

    public var description: String {
        switch self {
        case .wrongEpoch(let epoch, let current):
            "report: epoch \(epoch) is neither the current epoch \(current) nor the previous one"
        case .insufficientWork(let bits, let required):
            "report: proof of work has \(bits) leading zero bits, \(required) required"
        }
    }
}
