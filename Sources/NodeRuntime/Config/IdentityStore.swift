public import P2PCore

/// Where the node's libp2p identity comes from.
///
/// By default every run gets a fresh Ed25519 key, so a node cannot be followed across runs by its peer
/// ID. A user who wants a stable peer ID gives a key file: the libp2p `PrivateKey` protobuf, mode 0600.
/// A missing key file is created with a new key.
public enum IdentityStore {
    /// The largest key file accepted (an Ed25519 protobuf is 68 bytes).
    public static let maximumKeyFileBytes = 4096

    /// A fresh identity for this run only (nothing is written).
    public static func ephemeral() -> PrivateKey {
        PrivateKey()
    }

    /// The identity for a run: from `keyFile` when given (created if missing), else a fresh one.
    /// - Throws: ``NodeRuntimeError`` if the key file cannot be read or written, is malformed, or can be
    ///   read by other users.
    public static func identity(keyFile: String?) throws(NodeRuntimeError) -> PrivateKey {
        guard let keyFile else { return Self.ephemeral() }
        return try Self.loadOrCreate(keyFile: keyFile) { PrivateKey() }
    }

    /// Reads the key at `keyFile`, or writes `makeKey()` there (0600) when the file does not exist.
    public static func loadOrCreate(
        keyFile: String,
        makeKey: () -> PrivateKey
    ) throws(NodeRuntimeError) -> PrivateKey {
        if let key = try Self.load(keyFile: keyFile) {
            return key
        }
        let key = makeKey()
        try Self.save(key, to: keyFile)
        return key
    }

    /// Reads the key at `keyFile`; `nil` when it does not exist.
    /// - Throws: ``NodeRuntimeError`` if it is malformed, too large, or readable by other users.
    public static func load(keyFile: String) throws(NodeRuntimeError) -> PrivateKey? {
        guard let bytes = try PrivateFile.load(keyFile, limit: Self.maximumKeyFileBytes) else { return nil }
        try SecretFilePolicy.check(keyFile)
        do {
            return try PrivateKey(protobufEncoded: bytes)
        } catch {
            throw NodeRuntimeError(
                .malformedFile,
                "\(keyFile) is not a libp2p Ed25519 private key (protobuf): \(error)",
                underlying: error
            )
        }
    }

    /// Writes `key` as the libp2p `PrivateKey` protobuf to `keyFile` with mode 0600.
    public static func save(_ key: PrivateKey, to keyFile: String) throws(NodeRuntimeError) {
        try PrivateFile.store(key.protobufEncoded, to: keyFile)
    }
}
