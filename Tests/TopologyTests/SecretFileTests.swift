import Foundation
import Topology
import XCTest

/// `${file:PATH}`: secrets mounted as files, as Kubernetes and vault agents provide them.
final class SecretFileTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("secret-files-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func write(_ text: String, to name: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    private func topology(password: String, user: String = "bridge") -> String {
        document(appending: "").replacingOccurrences(of: "  bootstrap_servers: \"127.0.0.1:29092\"\n", with: """
              bootstrap_servers: "127.0.0.1:29092"
              properties:
                sasl.username: \(user)
                sasl.password: "\(password)"

            """)
    }

    func testAbsoluteAndRelativePathsWithOneTrailingNewlineDropped() throws {
        let absolute = try write("s3cr3t-from-file\n", to: "password")
        _ = try write("user-from-file\r\n", to: "user")
        let topologyPath = try write(topology(password: "${file:\(absolute)}", user: "${file:user}"), to: "topology.yaml")

        let loaded = try TopologyLoader.load(file: topologyPath, environment: [:])
        let properties = loaded.target.properties.revealedForClient()
        XCTAssertEqual(properties["sasl.password"], "s3cr3t-from-file")
        XCTAssertEqual(properties["sasl.username"], "user-from-file")
        XCTAssertFalse("\(loaded)".contains("s3cr3t-from-file"), "the secret read from a file is still a Secret")
    }

    func testAMissingEmptyOrDirectoryFileIsNamedWithoutItsContents() throws {
        let empty = try write("\n", to: "empty")
        let missing = directory.appendingPathComponent("absent").path
        let found = reported(topology(password: "${file:\(missing)}", user: "${file:\(empty)}"))
        XCTAssertEqual(found, [
            Reported(9, "target.properties.sasl.username", "cannot read ${file:\(empty)}: \(empty) is empty"),
            Reported(10, "target.properties.sasl.password", "cannot read ${file:\(missing)}: \(missing) does not exist"),
        ])
        XCTAssertEqual(reported(topology(password: "${file:\(directory.path)}")), [
            Reported(10, "target.properties.sasl.password", "cannot read ${file:\(directory.path)}: \(directory.path) is a directory"),
        ])
    }

    func testEnvironmentAndFileReferencesMix() throws {
        _ = try write("tail", to: "tail")
        let loaded = try TopologyLoader.parse(
            yaml: topology(password: "${HEAD}-${file:tail}"), environment: ["HEAD": "head"], baseDirectory: directory.path)
        XCTAssertEqual(loaded.target.properties.revealedForClient()["sasl.password"], "head-tail")
    }
}

/// Files that librdkafka's `*.location` properties name are checked when the topology is read, with key and line.
final class LocationPropertyTests: XCTestCase {
    func testAMissingCertificateFileIsNamedWithItsKeyAndLine() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("locations-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let ca = folder.appendingPathComponent("ca.pem")
        try "x".write(to: ca, atomically: true, encoding: .utf8)
        let missing = folder.appendingPathComponent("client.pem").path
        let yaml = document(appending: "").replacingOccurrences(of: "  bootstrap_servers: \"127.0.0.1:29092\"\n", with: """
              bootstrap_servers: "127.0.0.1:29092"
              properties:
                security.protocol: ssl
                ssl.ca.location: \(ca.path)
                ssl.certificate.location: \(missing)
                ssl.key.location: \(folder.path)

            """)
        XCTAssertEqual(reported(yaml), [
            Reported(11, "target.properties.ssl.certificate.location", "\(missing) does not exist"),
            Reported(12, "target.properties.ssl.key.location", "\(folder.path) is a folder, not a file"),
        ])
        // A folder of CA certificates, and librdkafka's `probe`, are fine for ssl.ca.location.
        let caOnly = yaml.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.contains("ssl.certificate.location") && !$0.contains("ssl.key.location") }.joined(separator: "\n")
        XCTAssertNoThrow(try TopologyLoader.parse(yaml: caOnly.replacingOccurrences(of: ca.path, with: folder.path)))
        XCTAssertNoThrow(try TopologyLoader.parse(yaml: caOnly.replacingOccurrences(of: ca.path, with: "probe")))
    }
}
