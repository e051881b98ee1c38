import Foundation
import NodeRuntime
import P2PCore
import TestSupport
import Testing

@Suite("Identity key, install token and endpoint files")
struct SecretFilesTests {
    @Test("Without a key file every run gets a new identity")
    func ephemeralIdentity() throws {
        let first = try IdentityStore.identity(keyFile: nil)
        let second = try IdentityStore.identity(keyFile: nil)
        #expect(PeerID(publicKey: first.publicKey) != PeerID(publicKey: second.publicKey))
    }

    @Test("A missing key file is created 0600 as a libp2p key protobuf and read back as the same identity")
    func keyFile() throws {
        let temporary = try TemporaryDirectory()
        let path = temporary.path + "/keys/node.key"
        try FileManager.default.createDirectory(atPath: temporary.path + "/keys", withIntermediateDirectories: true)
        let fixed = try PrivateKey(ed25519Seed: [UInt8](repeating: 7, count: 32))
        let created = try IdentityStore.loadOrCreate(keyFile: path) { fixed }
        #expect(try permissions(path) == 0o600)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes == fixed.protobufEncoded)
        #expect(bytes.prefix(4) == [0x08, 0x01, 0x12, 0x40])  // KeyType = Ed25519, Data = 64 bytes
        let loaded = try IdentityStore.identity(keyFile: path)
        #expect(PeerID(publicKey: loaded.publicKey) == PeerID(publicKey: created.publicKey))
    }

    @Test("A key file other users can read, or one that is not a key, is refused with a clear reason")
    func badKeyFiles() throws {
        let temporary = try TemporaryDirectory()
        let open = temporary.path + "/open.key"
        try IdentityStore.save(PrivateKey(), to: open)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: open)
        #expect {
            _ = try IdentityStore.identity(keyFile: open)
        } throws: { error in
            (error as? NodeRuntimeError)?.code == .insecurePermissions && "\(error)".contains("chmod 600")
        }
        let garbage = temporary.path + "/garbage.key"
        #expect(
            FileManager.default.createFile(
                atPath: garbage,
                contents: Data("not a key".utf8),
                attributes: [.posixPermissions: 0o600]
            )
        )
        #expect(throws: NodeRuntimeError(.malformedFile, "")) { _ = try IdentityStore.identity(keyFile: garbage) }
        let huge = temporary.path + "/huge.key"
        #expect(
            FileManager.default.createFile(
                atPath: huge,
                contents: Data(count: IdentityStore.maximumKeyFileBytes + 1),
                attributes: [.posixPermissions: 0o600]
            )
        )
        #expect(throws: NodeRuntimeError(.fileTooLarge, "")) { _ = try IdentityStore.identity(keyFile: huge) }
    }

    @Test("The install token is created once (0600, 64 hex digits) and kept across runs")
    func installToken() throws {
        let temporary = try TemporaryDirectory()
        let directory = temporary.dataDirectory()
        #expect(try InstallToken.load(from: directory) == nil)
        var generator = SplitMix64(seed: 42)
        let token = try InstallToken.loadOrCreate(in: directory, using: &generator)
        #expect(token.value.count == 64 && token.value.allSatisfy(\.isHexDigit))
        #expect(try permissions(directory.installTokenPath) == 0o600)
        #expect(try permissions(directory.path) == 0o700)
        var sameSeed = SplitMix64(seed: 42)
        #expect(InstallToken(using: &sameSeed) == token)
        var otherGenerator = SplitMix64(seed: 43)
        #expect(try InstallToken.loadOrCreate(in: directory, using: &otherGenerator) == token)
        #expect(!"\(token)".contains(token.value))
    }

    @Test("A malformed token file is reported, not silently replaced")
    func malformedToken() throws {
        let temporary = try TemporaryDirectory()
        let directory = temporary.dataDirectory()
        try directory.create()
        #expect(
            FileManager.default.createFile(
                atPath: directory.installTokenPath,
                contents: Data("XYZ".utf8),
                attributes: [.posixPermissions: 0o600]
            )
        )
        #expect {
            _ = try InstallToken.loadOrCreate(in: directory)
        } throws: { error in
            (error as? NodeRuntimeError)?.code == .malformedFile && "\(error)".contains("install-token")
        }
    }

    @Test("The endpoint file round-trips (0600) and only loopback http URLs are accepted")
    func endpoint() throws {
        let temporary = try TemporaryDirectory()
        let directory = temporary.dataDirectory()
        #expect(try NodeEndpoint.read(from: directory) == nil)
        let endpoint = try NodeEndpoint(url: "http://127.0.0.1:8737/", pid: 4242)
        try endpoint.write(to: directory)
        #expect(try permissions(directory.nodeEndpointPath) == 0o600)
        #expect(try NodeEndpoint.read(from: directory) == endpoint)
        #expect(endpoint.url(forPath: "api/v1/status")?.absoluteString == "http://127.0.0.1:8737/api/v1/status")
        try NodeEndpoint.remove(from: directory)
        #expect(try NodeEndpoint.read(from: directory) == nil)

        for url in ["http://example.com:8737/", "https://127.0.0.1/", "http://user:pw@127.0.0.1/", "nonsense"] {
            #expect(throws: NodeRuntimeError(.malformedFile, "")) { _ = try NodeEndpoint(url: url, pid: 1) }
        }
        try Data(#"{"url": "http://10.0.0.1:80/", "pid": 1}"#.utf8)
            .write(to: URL(fileURLWithPath: directory.nodeEndpointPath))
        #expect(throws: NodeRuntimeError(.malformedFile, "")) { _ = try NodeEndpoint.read(from: directory) }
    }
}
