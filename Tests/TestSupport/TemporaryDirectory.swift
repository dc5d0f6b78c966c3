import Foundation

/// Creates a fresh, uniquely named directory `<base>/<prefix>-<random>`.
func makeTemporaryDirectory(prefix: String, in base: URL = FileManager.default.temporaryDirectory) throws -> URL {
    let safePrefix = String(prefix.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
    let suffix = UUID().uuidString.prefix(8).lowercased()
    let url = base.appendingPathComponent("\(safePrefix)-\(suffix)", isDirectory: true)
    do {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    } catch {
        throw FixtureError("cannot create temporary directory \(url.path): \(error)")
    }
    return url
}

/// The last `lines` lines of the text file at `url`, or a note when it cannot be read.
func logTail(_ url: URL, lines: Int = 40) -> String {
    guard let data = FileManager.default.contents(atPath: url.path) else {
        return "(no log at \(url.path))"
    }
    let text = String(decoding: data, as: UTF8.self)
    let tail = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines)
    return tail.joined(separator: "\n")
}
