import PrivacyCore
import PropertyBased
import Testing

extension Generators {
    /// Every well-formed wire report.
    static var wireReport: Generator<WireReport, some SendableSequenceType> {
        zip(
            Gen.int(in: 0...5),
            Gen.int(in: 0...11),
            Gen<Region>.case,
            Gen<Grade>.case,
            Gen<ProtectionTool>.case,
            Gen.bool,
            Gen.bool
        )
        .map { type, value, region, grade, tool, a, b -> WireReport in
            switch ReportType.allCases[type] {
            case .score: .score(decile: value % 10)
            case .trackers: .trackers(bucket: value % 6)
            case .risk: .risk(bucket: value % 4)
            case .category: .category(SiteCategory.allCases[value])
            case .regionGrade: .regionGrade(region: region, grade: grade)
            case .tool: .tool(tool, isAGrade: a, usesTool: b)
            }
        }
    }
}

@Suite("ReportEnvelope")
struct ReportEnvelopeTests {
    static func valid(_ report: WireReport = .score(decile: 9)) -> [UInt8] {
        try! ReportEnvelope(epoch: 2968, report: report, nonce: 0x0102_0304_0506_0708).encode()
    }

    @Test("Every report round-trips through exactly 512 bytes")
    func roundTrip() async {
        await propertyCheck(
            count: 500,
            input: Generators.wireReport,
            Gen.uint32(in: 0...UInt32.max),
            Gen.uint64(in: 0...UInt64.max)
        ) {
            report,
            epoch,
            nonce in
            let envelope = try ReportEnvelope(epoch: epoch, report: report, nonce: nonce)
            let bytes = envelope.encode()
            #expect(bytes.count == 512)
            let decoded = try ReportEnvelope(decoding: bytes)
            #expect(decoded == envelope)
            #expect(decoded.report == report)
            #expect(decoded.encode() == bytes)
        }
    }

    @Test("The layout is fixed: magic, version, type, randomizer, values, ε, epoch, nonce, zero padding")
    func layout() {
        let bytes = Self.valid(.tool(.privacyBadger, isAGrade: true, usesTool: false))
        #expect(Array(bytes[0..<4]) == Array("PTCR".utf8))
        #expect(bytes[4] == 1)
        #expect(bytes[5] == 5)
        #expect(bytes[6] == 1)
        #expect(Array(bytes[7..<10]) == [1, 1, 0])
        #expect(Array(bytes[10..<12]) == [0x03, 0xE8])
        #expect(Array(bytes[12..<16]) == [0, 0, 0x0B, 0x98])
        #expect(Array(bytes[16..<24]) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(bytes[24...].allSatisfy { $0 == 0 })
    }

    @Test("Wrong lengths are rejected", arguments: [0, 1, 511, 513, 1024])
    func wrongLength(count: Int) {
        var bytes = Self.valid()
        bytes = count <= 512 ? Array(bytes.prefix(count)) : bytes + [UInt8](repeating: 0, count: count - 512)
        #expect(throws: ReportEnvelopeError.wrongLength(count)) { try ReportEnvelope(decoding: bytes) }
    }

    @Test("Every malformed variant gets its own error")
    func malformed() {
        func mutated(_ report: WireReport = .score(decile: 9), _ change: (inout [UInt8]) -> Void) -> [UInt8] {
            var bytes = Self.valid(report)
            change(&bytes)
            return bytes
        }
        let cases: [([UInt8], ReportEnvelopeError)] = [
            (mutated { $0[0] = UInt8(ascii: "X") }, .badMagic),
            (mutated { $0[4] = 2 }, .unsupportedVersion(2)),
            (mutated { $0[4] = 0 }, .unsupportedVersion(0)),
            (mutated { $0[5] = 6 }, .unknownReportType(6)),
            (mutated { $0[5] = 255 }, .unknownReportType(255)),
            (mutated { $0[6] = 0 }, .unknownRandomizer(0)),
            (mutated { $0[6] = 2 }, .unknownRandomizer(2)),
            (
                mutated {
                    $0[10] = 0x03
                    $0[11] = 0xE8
                }, .epsilonMismatch(type: .score, thousandths: 1000)
            ),
            (
                mutated(.risk(bucket: 1)) {
                    $0[10] = 0x07
                    $0[11] = 0xD0
                }, .epsilonMismatch(type: .risk, thousandths: 2000)
            ),
            (mutated(.risk(bucket: 1)) { $0[11] = 0xE9 }, .epsilonMismatch(type: .risk, thousandths: 1001)),
            (mutated { $0[7] = 10 }, .valueOutOfDomain(field: "decile", value: 10)),
            (mutated(.trackers(bucket: 0)) { $0[7] = 6 }, .valueOutOfDomain(field: "trackers bucket", value: 6)),
            (mutated(.risk(bucket: 0)) { $0[7] = 4 }, .valueOutOfDomain(field: "risk bucket", value: 4)),
            (mutated(.category(.news)) { $0[7] = 12 }, .valueOutOfDomain(field: "category", value: 12)),
            (
                mutated(.regionGrade(region: .asia, grade: .b)) { $0[7] = 6 },
                .valueOutOfDomain(field: "region", value: 6)
            ),
            (
                mutated(.regionGrade(region: .asia, grade: .b)) { $0[8] = 5 },
                .valueOutOfDomain(field: "grade", value: 5)
            ),
            (
                mutated(.tool(.ghostery, isAGrade: false, usesTool: false)) { $0[7] = 14 },
                .valueOutOfDomain(field: "tool", value: 14)
            ),
            (
                mutated(.tool(.ghostery, isAGrade: false, usesTool: false)) { $0[8] = 2 },
                .valueOutOfDomain(field: "is A-grade", value: 2)
            ),
            (
                mutated(.tool(.ghostery, isAGrade: false, usesTool: false)) { $0[9] = 2 },
                .valueOutOfDomain(field: "uses tool", value: 2)
            ),
            (mutated { $0[8] = 1 }, .unusedValueByteNotZero(offset: 8)),
            (mutated { $0[9] = 1 }, .unusedValueByteNotZero(offset: 9)),
            (mutated(.regionGrade(region: .asia, grade: .b)) { $0[9] = 1 }, .unusedValueByteNotZero(offset: 9)),
            (mutated { $0[24] = 1 }, .nonZeroPadding(offset: 24)),
            (mutated { $0[511] = 0x80 }, .nonZeroPadding(offset: 511)),
        ]
        for (bytes, error) in cases {
            #expect(throws: error) { try ReportEnvelope(decoding: bytes) }
        }
    }

    @Test("Any single non-zero padding byte is rejected")
    func padding() async {
        await propertyCheck(input: Gen.int(in: 24...511), Gen.uint8(in: 1...255)) { offset, value in
            var bytes = Self.valid()
            bytes[offset] = value
            #expect(throws: ReportEnvelopeError.nonZeroPadding(offset: offset)) { try ReportEnvelope(decoding: bytes) }
        }
    }

    @Test("Reports with values outside their domain cannot be enveloped")
    func outOfDomainReports() {
        #expect(throws: ReportEnvelopeError.valueOutOfDomain(field: "decile", value: 10)) {
            try ReportEnvelope(epoch: 1, report: .score(decile: 10))
        }
        #expect(throws: ReportEnvelopeError.valueOutOfDomain(field: "trackers bucket", value: -1)) {
            try ReportEnvelope(epoch: 1, report: .trackers(bucket: -1))
        }
        #expect(throws: ReportEnvelopeError.valueOutOfDomain(field: "risk bucket", value: 4)) {
            try ReportEnvelope(epoch: 1, report: .risk(bucket: 4))
        }
    }

    @Test("Decoding accepts non-array collections of bytes")
    func collections() throws {
        let bytes = Self.valid(.category(.games))
        let decoded = try ReportEnvelope(decoding: bytes[...])
        #expect(decoded.report == .category(.games))
    }
}
