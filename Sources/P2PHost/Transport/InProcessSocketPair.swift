#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A connected pair of Unix stream sockets: the in-process transport between two hosts.
enum InProcessSocketPair {
    /// Creates the pair; both descriptors are owned by the caller.
    static func make() throws(P2PHostError) -> (CInt, CInt) {
        var descriptors: [CInt] = [-1, -1]
        #if canImport(Darwin)
        let type = SOCK_STREAM
        #else
        let type = CInt(SOCK_STREAM.rawValue)
        #endif
        guard socketpair(AF_UNIX, type, 0, &descriptors) == 0 else {
            throw P2PHostError(.dialFailed, "socketpair failed (errno \(errno))")
        }
        return (descriptors[0], descriptors[1])
    }

    /// Closes descriptors that no channel took over.
    static func close(_ descriptors: CInt...) {
        for descriptor in descriptors {
            #if canImport(Darwin)
            _ = Darwin.close(descriptor)
            #elseif canImport(Musl)
            _ = Musl.close(descriptor)
            #else
            _ = Glibc.close(descriptor)
            #endif
        }
    }
}
