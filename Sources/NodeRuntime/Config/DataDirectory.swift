/// The directory where a node keeps its state: the SQLite database, the install token, the endpoint file
/// of the running node and, if the user asks for one, the identity key.
///
/// Defaults: on Linux `$XDG_DATA_HOME/phantom-trail`, else `~/.local/share/phantom-trail`; on macOS
/// `~/Library/Application Support/Phantom Trail`. `--data-dir` overrides it. The directory is created with
/// mode 0700, so only the user can enter it.
public struct DataDirectory: Hashable, Sendable {
    /// The operating systems with a default location.
    public enum Platform: Hashable, Sendable {
        /// Linux (and other Unix systems that follow the XDG base directory specification).
        case linux
        /// macOS.
        case macOS

        /// The platform this program was built for.
        public static var current: Platform {
            #if os(macOS)
            .macOS
            #else
            .linux
            #endif
        }
    }

    /// The SQLite database's file name.
    public static let databaseFileName = "node.sqlite"
    /// The install token's file name.
    public static let installTokenFileName = "install-token"
    /// The running node's endpoint file name.
    public static let nodeEndpointFileName = "node-endpoint.json"
    /// The identity key's file name when the user keeps one in the data directory.
    public static let identityKeyFileName = "identity.key"

    /// The directory's absolute path (no trailing slash).
    public let path: String

    /// A data directory at `path`; a relative path is resolved against `currentDirectory`.
    public init(path: String, currentDirectory: String) {
        var absolute = path.hasPrefix("/") ? path : currentDirectory + "/" + path
        while absolute.count > 1, absolute.hasSuffix("/") { absolute.removeLast() }
        self.path = absolute
    }

    /// The default data directory of `platform`, from the environment (`HOME`, `XDG_DATA_HOME`).
    /// - Throws: ``NodeRuntimeError/Code/fileSystem`` when `HOME` is unset or relative.
    public static func defaultLocation(
        environment: [String: String],
        platform: Platform = .current
    ) throws(NodeRuntimeError) -> DataDirectory {
        guard let home = environment["HOME"], home.hasPrefix("/") else {
            throw NodeRuntimeError(
                .fileSystem,
                "HOME is not set to an absolute path; pass --data-dir to choose the data directory"
            )
        }
        switch platform {
        case .macOS:
            return DataDirectory(path: home + "/Library/Application Support/Phantom Trail", currentDirectory: "/")
        case .linux:
            // The XDG specification says a relative XDG_DATA_HOME is invalid and must be ignored.
            if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") {
                return DataDirectory(path: xdg + "/phantom-trail", currentDirectory: "/")
            }
            return DataDirectory(path: home + "/.local/share/phantom-trail", currentDirectory: "/")
        }
    }

    /// The data directory given by `--data-dir`, else the default one.
    public static func resolve(
        override: String?,
        environment: [String: String],
        currentDirectory: String,
        platform: Platform = .current
    ) throws(NodeRuntimeError) -> DataDirectory {
        if let override, !override.isEmpty {
            return DataDirectory(path: override, currentDirectory: currentDirectory)
        }
        return try Self.defaultLocation(environment: environment, platform: platform)
    }

    /// Creates the directory (and missing parents) if needed; a directory this call creates gets mode 0700.
    /// An existing directory keeps its mode.
    /// - Throws: ``NodeRuntimeError/Code/fileSystem`` when it cannot be created or is a file.
    public func create() throws(NodeRuntimeError) {
        try PrivateFile.createDirectory(self.path)
    }

    /// The path of a file inside the directory.
    public func file(_ name: String) -> String { self.path + "/" + name }

    /// The SQLite database's path.
    public var databasePath: String { self.file(Self.databaseFileName) }
    /// The install token's path.
    public var installTokenPath: String { self.file(Self.installTokenFileName) }
    /// The running node's endpoint file path.
    public var nodeEndpointPath: String { self.file(Self.nodeEndpointFileName) }
    /// The default identity key path inside the directory.
    public var identityKeyPath: String { self.file(Self.identityKeyFileName) }
}
