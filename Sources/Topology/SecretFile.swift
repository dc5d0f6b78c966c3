import Foundation

/// Reads the value of a `${file:PATH}` reference: a secret mounted as a file (a Kubernetes Secret volume, a
/// Docker secret, a file written by a vault agent).
///
/// The file's contents are the value, with one trailing newline dropped (`echo secret > file` and editors add
/// one; a password never ends in one). A relative path is looked for in the topology file's directory. The file
/// is read once, when the topology is loaded: a rotated secret is picked up by the next start.
enum SecretFile {
    /// The value in the file at `path`, or why it cannot be read (never the contents).
    static func read(_ path: String, relativeTo directory: String) -> Result<String, Reason> {
        guard !path.isEmpty else { return .failure(Reason("no path after file:")) }
        let full = path.hasPrefix("/") ? path : (directory as NSString).appendingPathComponent(path)
        guard let data = FileManager.default.contents(atPath: full) else {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) {
                return .failure(Reason(isDirectory.boolValue ? "\(full) is a directory" : "\(full) cannot be read (permissions)"))
            }
            return .failure(Reason("\(full) does not exist"))
        }
        guard var text = String(data: data, encoding: .utf8) else { return .failure(Reason("\(full) is not UTF-8 text")) }
        if text.last?.isNewline == true { text.removeLast() }  // "\r\n" is one Character
        guard !text.isEmpty else { return .failure(Reason("\(full) is empty")) }
        return .success(text)
    }

    /// Why a file could not be used; its text names the path, never the contents.
    struct Reason: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
