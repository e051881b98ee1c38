import Foundation
import NodeRuntime
import Testing

@Suite("Data directory")
struct DataDirectoryTests {
    @Test("Linux default uses XDG_DATA_HOME when it is absolute, else ~/.local/share")
    func linuxDefault() throws {
        let xdg = try DataDirectory.defaultLocation(
            environment: ["HOME": "/home/ada", "XDG_DATA_HOME": "/data/xdg"],
            platform: .linux
        )
        #expect(xdg.path == "/data/xdg/phantom-trail")
        let fallback = try DataDirectory.defaultLocation(environment: ["HOME": "/home/ada"], platform: .linux)
        #expect(fallback.path == "/home/ada/.local/share/phantom-trail")
        let relativeXDG = try DataDirectory.defaultLocation(
            environment: ["HOME": "/home/ada", "XDG_DATA_HOME": "relative/dir"],
            platform: .linux
        )
        #expect(relativeXDG.path == "/home/ada/.local/share/phantom-trail")
    }

    @Test("macOS default is ~/Library/Application Support/Phantom Trail")
    func macOSDefault() throws {
        let directory = try DataDirectory.defaultLocation(
            environment: ["HOME": "/Users/ada", "XDG_DATA_HOME": "/ignored"],
            platform: .macOS
        )
        #expect(directory.path == "/Users/ada/Library/Application Support/Phantom Trail")
    }

    @Test("--data-dir overrides the default; a relative one is resolved against the working directory")
    func override() throws {
        let environment = ["HOME": "/home/ada"]
        let relative = try DataDirectory.resolve(override: "nodes/a/", environment: environment, currentDirectory: "/w")
        #expect(relative.path == "/w/nodes/a")
        #expect(relative.databasePath == "/w/nodes/a/node.sqlite")
        let absolute = try DataDirectory.resolve(override: "/srv/pt", environment: environment, currentDirectory: "/w")
        #expect(absolute.path == "/srv/pt")
        let none = try DataDirectory.resolve(override: nil, environment: environment, currentDirectory: "/w")
        #expect(none.path == "/home/ada/.local/share/phantom-trail")
    }

    @Test("Without HOME the default fails with a hint to pass --data-dir")
    func missingHome() {
        #expect {
            _ = try DataDirectory.defaultLocation(environment: [:], platform: .linux)
        } throws: { error in
            (error as? NodeRuntimeError)?.code == .fileSystem && "\(error)".contains("--data-dir")
        }
    }

    @Test("create() makes the directory and missing parents; the directory itself is 0700")
    func createsPrivateDirectory() throws {
        let temporary = try TemporaryDirectory()
        let directory = DataDirectory(path: temporary.path + "/a/b/phantom-trail", currentDirectory: "/")
        try directory.create()
        #expect(try permissions(directory.path) == 0o700)
        try directory.create()  // idempotent
        #expect(try permissions(directory.path) == 0o700)
    }

    @Test("create() refuses a path that is a regular file")
    func refusesFile() throws {
        let temporary = try TemporaryDirectory()
        let path = temporary.path + "/file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: NodeRuntimeError(.fileSystem, "")) {
            try DataDirectory(path: path, currentDirectory: "/").create()
        }
    }
}
