import CommunityInsights
import Foundation
import NodeRuntime
import P2PCore
import PrivacyCore
import Testing

@Suite("Data directory audit")
struct DataDirectoryAuditTests {
    private static let peerID = PeerID(
        publicKey: try! PrivateKey(ed25519Seed: [UInt8](repeating: 9, count: 32)).publicKey
    )
    .description
    private static let address = "/ip4/192.0.2.77/tcp/4001"
    private static let envelopeBytes: [UInt8] = [
        0x9F, 0x03, 0x00, 0x41, 0xC7, 0x2E, 0x11, 0x88, 0x5A, 0xE0, 0x3D, 0x72,
    ]

    private static var patterns: [DataDirectoryAudit.Pattern] {
        [
            .text(Self.peerID, name: "peer id (text)"),
            .text(Self.address, name: "address (text)"),
            DataDirectoryAudit.Pattern(name: "report envelope", bytes: Self.envelopeBytes),
        ]
    }

    /// A database with everything the node legitimately stores.
    private static func busyDatabase(_ directory: DataDirectory) async throws -> NodeDatabase {
        let database = try NodeDatabase(directory: directory)
        try await database.saveSettings(StoredSettings(p2p: try P2PSettings(joinPrivacyNetwork: true)))
        for epoch in 0..<20 {
            try await database.recordOwnScore(OwnScoreRecord(epoch: epoch, score: 40 + epoch), network: .publicNetwork)
            try await database.recordSnapshot(
                AggregateSnapshot(
                    epoch: epoch,
                    participants: 30,
                    averageScore: Estimate(value: 55, lower: 50, upper: 60, standardError: 2.5, supportingReports: 30)
                ),
                network: .publicNetwork
            )
        }
        return database
    }

    @Test("A directory with only settings, own history and snapshots is clean; every file is scanned")
    func cleanDirectory() async throws {
        let temporary = try TemporaryDirectory()
        let directory = temporary.dataDirectory()
        let database = try await Self.busyDatabase(directory)
        _ = try InstallToken.loadOrCreate(in: directory)
        let result = try DataDirectoryAudit(patterns: Self.patterns).scan(directory.path)
        #expect(result.isClean, "\(result.findings)")
        #expect(result.scannedFiles.contains("node.sqlite"))
        #expect(result.scannedFiles.contains("node.sqlite-wal"))
        #expect(result.scannedFiles.contains("node.sqlite-shm"))
        #expect(result.scannedFiles.contains("install-token"))
        #expect(result.scannedBytes > 0)
        try database.close()
    }

    @Test("A pattern that reached the database (in the WAL before a checkpoint) is found")
    func plantedInDatabase() async throws {
        let temporary = try TemporaryDirectory()
        let directory = temporary.dataDirectory()
        let database = try await Self.busyDatabase(directory)
        // Plant a peer address with a peer ID, as if a learned address had been saved as a bootstrap peer.
        var settings = try await database.storedSettings()
        settings.node = try NodeOptions(bootstrapAddresses: [Self.address + "/p2p/" + Self.peerID])
        try await database.saveSettings(settings)

        let result = try DataDirectoryAudit(patterns: Self.patterns).scan(directory.path)
        let hits = Set(result.findings.map(\.pattern))
        #expect(hits == ["peer id (text)", "address (text)"])
        #expect(result.findings.contains { $0.file == "node.sqlite-wal" })
        try database.close()
    }

    @Test("Raw bytes in any file, including nested ones, are found with their offset")
    func plantedBytesInNestedFile() throws {
        let temporary = try TemporaryDirectory()
        let directory = temporary.dataDirectory()
        try directory.create()
        try FileManager.default.createDirectory(atPath: directory.path + "/cache/x", withIntermediateDirectories: true)
        let contents = [UInt8](repeating: 0x9F, count: 1000) + Self.envelopeBytes + [1, 2, 3]
        try Data(contents).write(to: URL(fileURLWithPath: directory.path + "/cache/x/blob"))
        let result = try DataDirectoryAudit(patterns: Self.patterns).scan(directory.path)
        #expect(result.findings == [.init(pattern: "report envelope", file: "cache/x/blob", offset: 1000)])
    }
}
