#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Small POSIX file helpers for files only this user may read (mode 0600) and directories only this user
/// may enter (mode 0700). Foundation's helpers create a file first and change its mode afterwards; these
/// create it with the right mode from the start.
enum PrivateFile {
    /// Mode of private files.
    static let fileMode: mode_t = 0o600
    /// Mode of private directories.
    static let directoryMode: mode_t = 0o700

    /// Writes `bytes` to `path` atomically (a temporary file in the same directory, then `rename`), mode 0600.
    static func store(_ bytes: [UInt8], to path: String) throws(NodeRuntimeError) {
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, Self.fileMode)
        guard descriptor >= 0 else {
            throw Self.error("cannot create \(temporary)")
        }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress! + written, buffer.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                let failure = Self.error("cannot write \(temporary)")
                close(descriptor)
                unlink(temporary)
                throw failure
            }
            written += result
        }
        // The mode given to open() is reduced by the umask; set it exactly.
        fchmod(descriptor, Self.fileMode)
        fsync(descriptor)
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let failure = Self.error("cannot move \(temporary) to \(path)")
            unlink(temporary)
            throw failure
        }
    }

    /// Creates an empty file with mode 0600 if none exists (an existing file is left as it is).
    static func createIfMissing(_ path: String) throws(NodeRuntimeError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, Self.fileMode)
        guard descriptor >= 0 else {
            throw Self.error("cannot create \(path)")
        }
        close(descriptor)
    }

    /// Reads a whole file of at most `limit` bytes; `nil` when it does not exist.
    static func load(_ path: String, limit: Int) throws(NodeRuntimeError) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw Self.error("cannot open \(path)")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in
                read(descriptor, buffer.baseAddress!, buffer.count)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw Self.error("cannot read \(path)")
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limit {
                throw NodeRuntimeError(.fileTooLarge, "\(path) is larger than \(limit) bytes")
            }
        }
    }

    /// The permission bits of `path`, or `nil` when it does not exist.
    static func mode(of path: String) throws(NodeRuntimeError) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw Self.error("cannot inspect \(path)")
        }
        return info.st_mode & 0o7777
    }

    /// Whether `path` is a directory (`nil` when it does not exist).
    static func isDirectory(_ path: String) throws(NodeRuntimeError) -> Bool? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw Self.error("cannot inspect \(path)")
        }
        return (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Creates `path` and any missing parents; the last component gets mode 0700 (parents the default).
    static func createDirectory(_ path: String) throws(NodeRuntimeError) {
        if let isDirectory = try Self.isDirectory(path) {
            guard isDirectory else {
                throw NodeRuntimeError(.fileSystem, "\(path) exists and is not a directory")
            }
            return
        }
        let parent = Self.parent(of: path)
        if !parent.isEmpty, parent != path {
            try Self.createParents(parent)
        }
        guard mkdir(path, Self.directoryMode) == 0 || errno == EEXIST else {
            throw Self.error("cannot create directory \(path)")
        }
        chmod(path, Self.directoryMode)
    }

    /// Deletes a file; a missing file is not an error.
    static func remove(_ path: String) throws(NodeRuntimeError) {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw Self.error("cannot delete \(path)")
        }
    }

    private static func createParents(_ path: String) throws(NodeRuntimeError) {
        if try Self.isDirectory(path) != nil { return }
        let parent = Self.parent(of: path)
        if !parent.isEmpty, parent != path {
            try Self.createParents(parent)
        }
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
            throw Self.error("cannot create directory \(path)")
        }
    }

    private static func parent(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        if slash == trimmed.startIndex { return "/" }
        return String(trimmed[..<slash])
    }

    private static func error(_ what: String) -> NodeRuntimeError {
        NodeRuntimeError(.fileSystem, "\(what): \(String(cString: strerror(errno)))")
    }
}
