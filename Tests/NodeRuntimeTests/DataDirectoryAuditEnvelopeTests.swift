import Foundation
import NodeRuntime
import PrivacyCore
import TestSupport
import Testing

@Suite("Data directory audit: wire envelopes in every encoding")
struct DataDirectoryAuditEnvelopeTests {
    /// A real 512-byte envelope with a seeded nonce.
    private static func envelope(nonce: UInt64) throws -> [UInt8] {
        try ReportEnvelope(epoch: 4_242, report: .tool(.uBlockOrigin, isAGrade: true, usesTool: true), nonce: nonce)
            .encode()
    }

    /// `count` seeded bytes.
    private static func junk(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// The forms a file may hold `bytes` in, each inside other text or bytes.
    private static func embeddings(of bytes: [UInt8], prefix: Int) -> [(form: String, file: [UInt8])] {
        let around = Self.junk(prefix, seed: UInt64(prefix)) + bytes + Self.junk(7, seed: 99)
        let base64 = Data(around).base64EncodedString()
        let hex = around.map { String(format: "%02x", $0) }.joined()
        return [
            ("raw", Self.junk(prefix + 10, seed: 1) + bytes + Self.junk(3, seed: 2)),
            ("hex", Array("{\"blob\":\"\(hex)\"}".utf8)),
            ("HEX", Array("x=\(hex.uppercased());".utf8)),
            ("base64", Array("data: \(base64)\n".utf8)),
            (
                "base64url",
                Array(base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").utf8)
            ),
        ]
    }

    @Test(
        "An envelope is found raw, as hex in either case, and as base64 or base64url at each alignment inside longer text",
        arguments: 0..<3
    )
    func found(prefix: Int) throws {
        let temporary = try TemporaryDirectory()
        let envelope = try Self.envelope(nonce: 0x1234_5678_9ABC_DEF0)
        let audit = DataDirectoryAudit(patterns: DataDirectoryAudit.envelopePatterns([envelope]))
        for (form, file) in Self.embeddings(of: envelope, prefix: prefix) {
            let directory = temporary.path + "/\(form)-\(prefix)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data(file).write(to: URL(fileURLWithPath: directory + "/file"))
            let result = try audit.scan(directory)
            #expect(!result.isClean, "\(form) at alignment \(prefix) not found")
            // A base64 chunk without "+" or "/" reads the same in base64url, and has one pattern for both.
            let expected = form == "base64url" ? "base64" : form
            #expect(
                result.findings.allSatisfy { $0.pattern.hasPrefix("envelope 0 (\(expected)") },
                "\(result.findings)"
            )
        }
    }

    @Test("Another envelope (one nonce apart) is not found in any encoding of the first")
    func otherEnvelope() throws {
        let temporary = try TemporaryDirectory()
        let stored = try Self.envelope(nonce: 77)
        let searched = try Self.envelope(nonce: 78)
        let audit = DataDirectoryAudit(patterns: DataDirectoryAudit.envelopePatterns([searched]))
        for prefix in 0..<3 {
            for (form, file) in Self.embeddings(of: stored, prefix: prefix) {
                try Data(file).write(to: URL(fileURLWithPath: temporary.path + "/\(form)-\(prefix)"))
            }
        }
        let result = try audit.scan(temporary.path)
        #expect(result.isClean, "\(result.findings)")
        #expect(result.scannedFiles.count == 15)
    }

    @Test("Each envelope gets its own named patterns; empty input gives none")
    func names() throws {
        let patterns = DataDirectoryAudit.envelopePatterns([try Self.envelope(nonce: 1), try Self.envelope(nonce: 2)])
        let names = Set(patterns.map(\.name))
        for index in 0..<2 {
            for form in ["raw", "hex", "HEX", "base64, alignment 0", "base64, alignment 1", "base64, alignment 2"] {
                #expect(names.contains("envelope \(index) (\(form))"), "envelope \(index) (\(form))")
            }
        }
        #expect(names.count == patterns.count)
        #expect(DataDirectoryAudit.envelopePatterns([]).isEmpty)
        #expect(DataDirectoryAudit.Pattern.encodings(of: [], name: "nothing").isEmpty)
    }
}
