import Foundation
import Topology

/// Finds the reverse pair's topology: the file named with `--failback` (`drill`) or `--reverse` (`failback`), or a
/// topology file in the same folder whose source and target regions are this pair's, swapped.
package enum FailbackSearch {
    /// - Parameters:
    ///   - forward: this pair.
    ///   - file: this pair's topology file; its folder is searched.
    ///   - named: the file given with `--failback` or `--reverse`, if any.
    ///   - environment: values for `${VAR}` references, as for this pair's file.
    package static func find(forward: Topology, file: String, named: String?, environment: [String: String]) -> FailbackCandidate {
        if let named {
            do {
                return .found(file: named, topology: try TopologyLoader.load(file: named, environment: environment))
            } catch {
                return .invalid(file: named, problems: "\(error)")
            }
        }
        let me = URL(fileURLWithPath: file).standardizedFileURL
        let folder = me.deletingLastPathComponent()
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
            .filter { folder.appendingPathComponent($0).standardizedFileURL.path != me.path }
            .sorted()
        let conventional = "\(forward.target.region)-to-\(forward.source.region)"
        var searched: [String] = []
        var conventionalProblem: (String, String)?
        for name in names {
            let path = folder.appendingPathComponent(name).path
            do {
                let candidate = try TopologyLoader.load(file: path, environment: environment)
                if candidate.source.region == forward.target.region && candidate.target.region == forward.source.region {
                    return .found(file: path, topology: candidate)
                }
                searched.append("\(name) (\(candidate.source.region) -> \(candidate.target.region))")
            } catch {
                searched.append("\(name) (does not validate)")
                if name == conventional + ".yaml" || name == conventional + ".yml" { conventionalProblem = (path, "\(error)") }
            }
        }
        if let (path, problems) = conventionalProblem { return .invalid(file: path, problems: problems) }
        return .missing(folder: folder.path, searched: searched)
    }
}
