import Foundation

/// Scans every file under a data directory (the database, its `-wal` and `-shm` files, and anything else)
/// for byte patterns that must never reach the disk: report envelopes, peer IDs (bytes and text) and
/// addresses. Tests run it after a busy node run to check privacy-design.md ("Storage").
public struct DataDirectoryAudit: Sendable {
    /// A pattern to look for.
    public struct Pattern: Hashable, Sendable {
        /// What the pattern is, for the findings (e.g. "peer id 12D3Koo… (text)").
        public var name: String
        /// The bytes to find.
        public var bytes: [UInt8]

        /// A pattern of raw bytes.
        public init(name: String, bytes: [UInt8]) {
            self.name = name
            self.bytes = bytes
        }

        /// A pattern of the UTF-8 bytes of `text`.
        public static func text(_ text: String, name: String? = nil) -> Pattern {
            Pattern(name: name ?? "text \"\(text)\"", bytes: Array(text.utf8))
        }
    }

    /// One place where a pattern was found.
    public struct Finding: Hashable, Sendable, CustomStringConvertible {
        /// The pattern's name.
        public var pattern: String
        /// The file's path relative to the scanned directory.
        public var file: String
        /// The byte offset of the first occurrence in the file.
        public var offset: Int

        /// Creates a finding.
        public init(pattern: String, file: String, offset: Int) {
            self.pattern = pattern
            self.file = file
            self.offset = offset
        }

        /// "<pattern> in <file> at byte <offset>".
        public var description: String { "\(self.pattern) in \(self.file) at byte \(self.offset)" }
    }

    /// The result of a scan.
    public struct Result: Hashable, Sendable {
        /// The files scanned, relative to the directory, sorted.
        public var scannedFiles: [String]
        /// Total bytes scanned.
        public var scannedBytes: Int
        /// Every pattern found (first occurrence per pattern and file).
        public var findings: [Finding]
        /// Whether nothing was found.
        public var isClean: Bool { self.findings.isEmpty }
    }

    /// The patterns to look for; empty ones are ignored.
    public var patterns: [Pattern]
    /// The largest file read; bigger files fail the scan rather than being skipped.
    public var maximumFileBytes: Int

    /// An audit for `patterns`.
    public init(patterns: [Pattern], maximumFileBytes: Int = 256 * 1024 * 1024) {
        self.patterns = patterns.filter { !$0.bytes.isEmpty }
        self.maximumFileBytes = maximumFileBytes
    }

    /// Scans every regular file under `directory`, recursively (symbolic links are not followed).
    /// - Throws: ``NodeRuntimeError/Code/fileSystem`` when a file cannot be listed or read, and
    ///   ``NodeRuntimeError/Code/fileTooLarge`` for a file above ``maximumFileBytes``.
    public func scan(_ directory: String) throws(NodeRuntimeError) -> Result {
        var files: [String] = []
        try Self.collect(directory: directory, relative: "", into: &files)
        files.sort()
        var findings: [Finding] = []
        var total = 0
        for file in files {
            let path = directory + "/" + file
            guard let bytes = try PrivateFile.load(path, limit: self.maximumFileBytes) else { continue }
            total += bytes.count
            for pattern in self.patterns {
                if let offset = Self.firstOffset(of: pattern.bytes, in: bytes) {
                    findings.append(Finding(pattern: pattern.name, file: file, offset: offset))
                }
            }
        }
        return Result(scannedFiles: files, scannedBytes: total, findings: findings)
    }

    private static func collect(
        directory: String,
        relative: String,
        into files: inout [String]
    ) throws(NodeRuntimeError) {
        let here = relative.isEmpty ? directory : directory + "/" + relative
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: here)
        } catch {
            throw NodeRuntimeError(.fileSystem, "cannot list \(here)", underlying: error)
        }
        for name in names {
            let child = relative.isEmpty ? name : relative + "/" + name
            let attributes: [FileAttributeKey: Any]
            do {
                attributes = try FileManager.default.attributesOfItem(atPath: directory + "/" + child)
            } catch {
                throw NodeRuntimeError(.fileSystem, "cannot inspect \(directory)/\(child)", underlying: error)
            }
            switch attributes[.type] as? FileAttributeType {
            case .typeDirectory?: try Self.collect(directory: directory, relative: child, into: &files)
            case .typeRegular?: files.append(child)
            default: continue
            }
        }
    }

    /// The offset of the first occurrence of `needle` in `haystack` (a first-byte scan, then a compare).
    static func firstOffset(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard !needle.isEmpty, needle.count <= haystack.count else { return nil }
        let first = needle[0]
        let lastStart = haystack.count - needle.count
        return haystack.withUnsafeBufferPointer { hay in
            needle.withUnsafeBufferPointer { pin in
                var index = 0
                while index <= lastStart {
                    if hay[index] == first, memcmp(hay.baseAddress! + index, pin.baseAddress!, pin.count) == 0 {
                        return index
                    }
                    index += 1
                }
                return nil
            }
        }
    }
}
