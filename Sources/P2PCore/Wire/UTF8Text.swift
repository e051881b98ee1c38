/// Strict UTF-8 decoding without Foundation.
enum UTF8Text {
    /// Returns the string when `bytes` is valid UTF-8, or `nil`.
    static func decode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String? {
        let string = String(decoding: bytes, as: UTF8.self)
        return string.utf8.elementsEqual(bytes) ? string : nil
    }
}
