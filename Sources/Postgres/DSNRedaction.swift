/// Returns `dsn` with every password replaced by `***`, for logs and error messages.
///
/// Handles the libpq key/value form (`password=secret`, `password = 'it''s'`, any case),
/// the URI form (`postgresql://user:secret@host`, `postgres://…`) and a `password`
/// query parameter in a URI (`?password=secret`). When in doubt it redacts too much
/// rather than too little.
public func redactPassword(inDSN dsn: String) -> String {
    var text = dsn
    // URI user info: scheme://user:password@host. The password runs up to the first `@`.
    text = text.replacing(#/(?<head>postgres(?:ql)?://[^:@/\s]*):[^@\s]*@/#.ignoresCase()) { match in
        "\(match.output.head):***@"
    }
    // URI query parameter: ?password=… or &password=…
    text = text.replacing(#/(?<head>[?&]password=)[^&#\s]*/#.ignoresCase()) { match in
        "\(match.output.head)***"
    }
    // Key/value form: password=value, value optionally single-quoted with \' or '' escapes.
    text = text.replacing(
        #/(?<head>(?:^|\s)password\s*=\s*)(?:'(?:[^'\\]|\\.|'')*'?|\S+)/#.ignoresCase()
    ) { match in
        "\(match.output.head)***"
    }
    return text
}
