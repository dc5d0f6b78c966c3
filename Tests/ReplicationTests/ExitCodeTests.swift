import Foundation
import Replication
import XCTest

/// One list of exit codes, and the README's table says the same.
final class ExitCodeTests: XCTestCase {
    func testTheReadmeTableListsExactlyTheExitCodes() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try XCTUnwrap(readme.range(of: "### Exit codes").map { readme[$0.upperBound...] })
        let table = section.split(separator: "\n").drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }
        let codes = table.compactMap { line in Int32(line.split(separator: "|").first?.trimmingCharacters(in: .whitespaces) ?? "") }
        XCTAssertEqual(codes, ExitCode.allCases.map(\.code))
        XCTAssertEqual(ExitCode.allCases.map(\.code), Array(0...8))
    }

    func testErrorsMapToTheirCodes() {
        XCTAssertEqual(ReplicationError(.sourceGap, "").exitCode, .sourceGap)
        XCTAssertEqual(ReplicationError(.targetRefusedRecord, "").exitCode, .refusedRecord)
        XCTAssertEqual(ReplicationError(.targetDataLost, "").exitCode, .targetLostData)
        XCTAssertEqual(ReplicationError(.fatal, "").exitCode, .runtime)
        XCTAssertEqual(ReplicationError(.targetUnavailable, "").exitCode.code, 1)
        XCTAssertEqual(ExitCode.sourceGap.description, "5 (source gap)")
    }
}
