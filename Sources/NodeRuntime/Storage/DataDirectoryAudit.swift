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

        /// Every form in which a wire envelope (or any bytes) could sit in a file: the raw bytes, lowercase and
        /// uppercase hex, and base64 and base64url at each of the three alignments a longer base64 text can start
        /// the bytes at (for alignment `k`, the base64 of the bytes from the first 3-byte group boundary on,
        /// cut to whole groups, which appears verbatim in any base64 text holding the bytes at that alignment).
        /// - Parameters:
        ///   - bytes: the bytes (e.g. a 512-byte report envelope).
        ///   - name: what they are, for the findings ("envelope 3" gives "envelope 3 (hex)").
        public static func encodings(of bytes: [UInt8], name: String) -> [Pattern] {
            guard !bytes.isEmpty else { return [] }
            let hex = bytes.map { byte in
                String(Self.hexDigits[Int(byte >> 4)]) + String(Self.hexDigits[Int(byte & 0x0F)])
            }.joined()
            var patterns = [
                Pattern(name: "\(name) (raw)", bytes: bytes),
                Pattern.text(hex, name: "\(name) (hex)"),
                Pattern.text(hex.uppercased(), name: "\(name) (HEX)"),
            ]
            for alignment in 0..<3 {
                let skip = (3 - alignment) % 3
                let whole = (bytes.count - skip) / 3 * 3
                guard whole >= 3 else { continue }
                let base64 = Data(bytes[skip..<skip + whole]).base64EncodedString()
                let url = base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                patterns.append(.text(base64, name: "\(name) (base64, alignment \(alignment))"))
                if url != base64 {
                    patterns.append(.text(url, name: "\(name) (base64url, alignment \(alignment))"))
                }
            }
            return patterns
        }

        private static let hexDigits = Array("0123456789abcdef")
    }

    /// The patterns of wire envelopes: ``Pattern/encodings(of:name:)`` of each, named "envelope 0", "envelope 1"…
    /// (an audit of a node's data directory passes every envelope the node sent or admitted).
    public static func envelopePatterns(_ envelopes: some Sequence<[UInt8]>) -> [Pattern] {
        envelopes.enumerated().flatMap { index, bytes in Pattern.encodings(of: bytes, name: "envelope \(index)") }
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
            for (index, offset) in Self.firstOffsets(of: self.patterns, in: bytes).sorted(by: { $0.key < $1.key }) {
                findings.append(Finding(pattern: self.patterns[index].name, file: file, offset: offset))
            }
        }
        return Result(scannedFiles: files, scannedBytes: total, findings: findings)
    }

    /// The first offset of each pattern found in `haystack`, by pattern index. Patterns of four bytes or more
    /// are found in one pass keyed by their first four bytes (an audit may look for thousands of envelope
    /// encodings at once); shorter ones are searched one by one.
    static func firstOffsets(of patterns: [Pattern], in haystack: [UInt8]) -> [Int: Int] {
        var found: [Int: Int] = [:]
        var byPrefix: [UInt32: [Int]] = [:]
        for (index, pattern) in patterns.enumerated() {
            if pattern.bytes.count >= 4 {
                byPrefix[Self.key(pattern.bytes, at: 0), default: []].append(index)
            } else if let offset = Self.firstOffset(of: pattern.bytes, in: haystack) {
                found[index] = offset
            }
        }
        guard !byPrefix.isEmpty, haystack.count >= 4 else { return found }
        var remaining = byPrefix.values.reduce(0) { $0 + $1.count }
        for offset in 0...(haystack.count - 4) {
            guard let candidates = byPrefix[Self.key(haystack, at: offset)] else { continue }
            for index in candidates where found[index] == nil {
                let needle = patterns[index].bytes
                if offset + needle.count <= haystack.count,
                    haystack[offset..<offset + needle.count].elementsEqual(needle)
                {
                    found[index] = offset
                    remaining -= 1
                }
            }
            if remaining == 0 { break }
        }
        return found
    }

    private static func key(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
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
