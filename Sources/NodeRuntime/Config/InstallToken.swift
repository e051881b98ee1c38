/// The per-install secret that authorizes state-changing requests to the local dashboard and JSON API
/// (`Authorization: Bearer <token>`). 32 random bytes, written as 64 lowercase hex digits to
/// `install-token` in the data directory with mode 0600. It is created once and kept across runs.
public struct InstallToken: Hashable, Sendable, CustomStringConvertible {
    /// Random bytes in a token.
    public static let byteCount = 32

    /// The token as 64 lowercase hex digits (what goes into the header and the URL). Secret.
    public let value: String

    /// A token from its text form.
    /// - Throws: ``NodeRuntimeError/Code/malformedFile`` unless `text` is 64 lowercase hex digits.
    public init(text: some StringProtocol) throws(NodeRuntimeError) {
        let trimmed = String(text).trimmingWhitespace()
        guard trimmed.utf8.count == 2 * Self.byteCount,
            trimmed.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else {
            throw NodeRuntimeError(.malformedFile, "an install token is \(2 * Self.byteCount) lowercase hex digits")
        }
        self.value = String(trimmed)
    }

    /// A new random token.
    public init(using generator: inout some RandomNumberGenerator) {
        var text = ""
        for _ in 0..<Self.byteCount {
            let byte = UInt8.random(in: 0...255, using: &generator)
            text += String(byte >> 4, radix: 16) + String(byte & 0x0F, radix: 16)
        }
        self.value = text
    }

    /// Reads the token from the data directory, creating it (0600) on first use.
    /// - Throws: ``NodeRuntimeError`` if the file cannot be read or written, is malformed, or can be read
    ///   by other users.
    public static func loadOrCreate(
        in directory: DataDirectory,
        using generator: inout some RandomNumberGenerator
    ) throws(NodeRuntimeError) -> InstallToken {
        if let existing = try Self.load(from: directory) {
            return existing
        }
        try directory.create()
        let token = InstallToken(using: &generator)
        try PrivateFile.store(Array((token.value + "\n").utf8), to: directory.installTokenPath)
        return token
    }

    /// Reads the token from the data directory with the system's secure random generator for a new one.
    public static func loadOrCreate(in directory: DataDirectory) throws(NodeRuntimeError) -> InstallToken {
        var generator = SystemRandomNumberGenerator()
        return try Self.loadOrCreate(in: directory, using: &generator)
    }

    /// Reads the token, or `nil` when the data directory has none yet.
    /// - Throws: ``NodeRuntimeError`` if the file is malformed or can be read by other users.
    public static func load(from directory: DataDirectory) throws(NodeRuntimeError) -> InstallToken? {
        let path = directory.installTokenPath
        guard let bytes = try PrivateFile.load(path, limit: 256) else { return nil }
        try SecretFilePolicy.check(path)
        do {
            return try InstallToken(text: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw NodeRuntimeError(
                .malformedFile,
                "\(path) is not a valid install token (\(error)); delete it to make a new one"
            )
        }
    }

    /// Never shows the secret.
    public var description: String { "InstallToken(…)" }
}

/// The rule for files holding secrets: group and others must have no access at all.
enum SecretFilePolicy {
    static func check(_ path: String) throws(NodeRuntimeError) {
        guard let mode = try PrivateFile.mode(of: path) else { return }
        guard mode & 0o077 == 0 else {
            throw NodeRuntimeError(
                .insecurePermissions,
                "\(path) holds a secret but other users can access it (mode \(String(mode, radix: 8))); "
                    + "run: chmod 600 '\(path)'"
            )
        }
    }
}
