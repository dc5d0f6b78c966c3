import Foundation
import TestSupport
import XCTest

/// Exit codes and messages of the `regionbridge` binary for good and bad input.
final class CommandLineTests: XCTestCase {
    private func write(_ yaml: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("topology-\(UUID().uuidString).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    private func regionbridge(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(RepoPaths.regionbridge, arguments, timeout: .seconds(30))
    }

    func testShippedTopologiesValidate() throws {
        for name in ["us-east-to-eu-west", "eu-west-to-us-east"] {
            let path = RepoPaths.root.appendingPathComponent("topologies/\(name).yaml").path
            let result = try regionbridge(["topology", "validate", path])
            XCTAssertEqual(result.exitCode, 0, result.stderr)
            XCTAssertTrue(result.stdout.contains("ok: pair \(name)"), result.stdout)
        }
    }

    func testBadTopologyExitsTwoNamingEveryKeyAndLine() throws {
        let path = try write("""
            pair: us-east-to-eu-west
            source:
              region: us-east
              bootstrap_server: "127.0.0.1:19092"
            target:
              region: EU_WEST
              bootstrap_servers: "127.0.0.1:29092"
            topics:
              include: ["payment-(events"]

            """)
        for arguments in [["topology", "validate", path], ["run", "--topology", path]] {
            let result = try regionbridge(arguments)
            XCTAssertEqual(result.exitCode, 2, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("\(path):4:3: source.bootstrap_server: unknown key (did you mean bootstrap_servers?)"), result.stderr)
            XCTAssertTrue(result.stderr.contains("\(path):6:11: target.region: region must match [a-z0-9-]+"), result.stderr)
            XCTAssertTrue(result.stderr.contains("\(path):9:13: topics.include[0]: not a valid regular expression"), result.stderr)
            XCTAssertTrue(result.stdout.isEmpty, result.stdout)
        }
    }

    func testIdentityRenameOnOneClusterIsRefusedAsALoop() throws {
        let path = try write("""
            pair: loop
            source: {region: us-east, bootstrap_servers: "127.0.0.1:19092"}
            target: {region: eu-west, bootstrap_servers: "127.0.0.1:19092"}
            topics: {include: ["payments"], rename: identity}

            """)
        let result = try regionbridge(["topology", "validate", path])
        XCTAssertEqual(result.exitCode, 2)
        XCTAssertTrue(result.stderr.contains("topics.rename"), result.stderr)
        XCTAssertTrue(result.stderr.contains("loop"), result.stderr)
    }

    func testMissingFileAndUndefinedVariableExitTwo() throws {
        let missing = try regionbridge(["run", "--topology", "/nonexistent/pair.yaml"])
        XCTAssertEqual(missing.exitCode, 2)
        XCTAssertTrue(missing.stderr.contains("/nonexistent/pair.yaml"), missing.stderr)

        let path = try write("""
            pair: p
            source: {region: us-east, bootstrap_servers: "127.0.0.1:1", properties: {sasl.password: "${REGIONBRIDGE_TEST_UNSET_SECRET}"}}
            target: {region: eu-west, bootstrap_servers: "127.0.0.1:2"}
            topics: {include: ["payments"]}

            """)
        let undefined = try regionbridge(["topology", "validate", path])
        XCTAssertEqual(undefined.exitCode, 2)
        XCTAssertTrue(undefined.stderr.contains("REGIONBRIDGE_TEST_UNSET_SECRET"), undefined.stderr)
        XCTAssertTrue(undefined.stderr.contains("source.properties.sasl.password"), undefined.stderr)
    }

    /// librdkafka's own log lines can quote a secret property's value; the bridge's log handler scrubs every value
    /// of the topology's secrets from what it writes. (Without the scrubbing this line shows the secret.)
    func testLibrdkafkaLogLinesThatQuoteASecretAreScrubbed() throws {
        let path = try write("""
            pair: p
            source:
              region: us-east
              bootstrap_servers: "127.0.0.1:\(try freeLoopbackPort())"
              properties:
                security.protocol: SASL_PLAINTEXT
                sasl.mechanisms: OAUTHBEARER
                enable.sasl.oauthbearer.unsecure.jwt: true
                sasl.oauthbearer.config: "${RB_SECRET}"
            target: {region: eu-west, bootstrap_servers: "127.0.0.1:\(try freeLoopbackPort())"}
            topics: {include: ["payments"]}

            """)
        var environment = ProcessInfo.processInfo.environment
        environment["RB_SECRET"] = "Rb-oauth-5d1c93e7"
        let result = try runProcess(
            RepoPaths.regionbridge, ["lag", "--topology", path, "--request-timeout", "2s", "--log-level", "trace"],
            environment: environment, timeout: .seconds(30))
        // A SASL mechanism that cannot even start is a refusal: a configuration error (2), named at once.
        XCTAssertEqual(result.exitCode, 2, result.stderr)
        XCTAssertTrue(result.stderr.contains("refuses this client: SASL authentication failed"), result.stderr)
        XCTAssertTrue(result.stderr.contains("Unrecognized sasl.oauthbearer.config beginning at: ******"), result.stderr)
        XCTAssertFalse((result.stdout + result.stderr).contains("5d1c93e7"), result.stderr)
    }

    func testUsageErrorsExitTwo() throws {
        let path = RepoPaths.root.appendingPathComponent("topologies/us-east-to-eu-west.yaml").path
        let badGap = try regionbridge(["run", "--topology", path, "--accept-gap", "payments"])
        XCTAssertEqual(badGap.exitCode, 2)
        XCTAssertTrue(badGap.stderr.contains("--accept-gap payments: expected TOPIC/PARTITION"), badGap.stderr)

        let unknown = try regionbridge(["replicate-everything"])
        XCTAssertEqual(unknown.exitCode, 2, unknown.stderr)
        let noTopology = try regionbridge(["run"])
        XCTAssertEqual(noTopology.exitCode, 2)
        XCTAssertTrue(noTopology.stderr.contains("--topology"), noTopology.stderr)
    }

    func testVersionNamesTheRuntimeLibrdkafka() throws {
        let result = try regionbridge(["version"])
        XCTAssertEqual(result.exitCode, 0)
        let version = try XCTUnwrap(result.stdout.split(separator: " ").last?.dropLast(2))
        let parts = version.split(separator: ".").compactMap { Int($0) }
        XCTAssertTrue(parts.count >= 2 && (parts[0] > 2 || parts[0] == 2 && parts[1] >= 1), "librdkafka \(version) is older than 2.1")
    }
}
