import LetheCore

enum InitCommand {
    static let spec = CommandSpec(
        ["init"],
        summary: "create a Lethe home: object store, KEK epoch 1, keystore, service signing key",
        usage: "init [--home DIR] [--keys DIR] [--store DIR | --store s3://BUCKET/PREFIX --s3-endpoint URL [--s3-region R] "
            + "[--s3-credentials FILE] [--s3-addressing path|virtual-host]] [--join OTHER/lethe.json] [--json]",
        details: """
            Creates the data directory, the local object store, the key directory with KEK epoch 1 and an
            empty keystore, and the service's Ed25519 signing key pair. Prints where each one is and the
            public key's fingerprint (SHA-256 of its DER SubjectPublicKeyInfo), which auditors use to
            recognise the key. Run on an initialized home or key directory, it refuses and changes nothing.
            --store s3://BUCKET/PREFIX keeps the objects in an S3 bucket (docs/s3.md): the endpoint and region
            go into lethe.json, credentials never do (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a 0600
            --s3-credentials file in the AWS shared-credentials form).
            With --join, creates no key: the home becomes a second worker of the installation whose
            lethe.json is given (same store, same keys, same settings, signed by the same key; docs/operations.md).
            """,
        options: [
            OptionSpec("--keys", value: "DIR", "key directory (default: HOME/keys)"),
            OptionSpec("--store", value: "DIR", "root of the local object store (default: HOME/store)"),
            OptionSpec("--s3-endpoint", value: "URL", "the S3 endpoint, for an s3:// store"),
            OptionSpec("--s3-region", value: "REGION", "the bucket's region (default us-east-1)"),
            OptionSpec("--s3-credentials", value: "FILE", "an AWS credentials file (0600) instead of AWS_* variables"),
            OptionSpec("--s3-addressing", value: "STYLE", "path (default) or virtual-host"),
            OptionSpec("--join", value: "FILE", "the lethe.json of a home of the installation to join as a worker"),
            .json,
        ]
    ) { invocation in
        _ = try invocation.positionals(0...0, "")
        let keys = invocation.arguments.value("--keys")
        var store = invocation.arguments.value("--store")
        let s3 = try store.flatMap {
            try S3Settings.parse(
                $0, endpoint: invocation.arguments.value("--s3-endpoint"), region: invocation.arguments.value("--s3-region"),
                credentialsFile: invocation.arguments.value("--s3-credentials"), addressing: invocation.arguments.value("--s3-addressing"))
        }
        if s3 != nil { store = nil }
        let created = try invocation.arguments.value("--join").map { try invocation.home.join(existing: $0, keysDirectory: keys, storeDirectory: store) }
            ?? invocation.home.initialize(keysDirectory: keys, storeDirectory: store, s3: s3)
        if invocation.json {
            try invocation.console.json(Output(created))
        } else {
            let c = invocation.console
            c.print("Initialized Lethe home \(created.home)")
            c.print("  configuration    \(created.configurationPath)")
            c.print("  object store     \(created.storeDirectory)")
            c.print("  key directory    \(created.keysDirectory)")
            c.print("  KEK epoch        \(created.kekEpoch)")
            c.print("  signing key      \(created.signingKeyPath) (private, mode 0600)")
            c.print("  public key       \(created.signingPublicKeyPath)")
            c.print("  fingerprint      \(created.signingKeyFingerprint)")
            c.print("Give auditors the public key file: reports and audit checkpoints verify against it.")
        }
        return .success
    }

    struct Output: Encodable {
        let home, configuration, store, keys: String
        let kekEpoch: Int
        let signingKey, signingPublicKey, signingKeyFingerprint: String

        init(_ created: Home.Initialized) {
            home = created.home
            configuration = created.configurationPath
            store = created.storeDirectory
            keys = created.keysDirectory
            kekEpoch = created.kekEpoch.number
            signingKey = created.signingKeyPath
            signingPublicKey = created.signingPublicKeyPath
            signingKeyFingerprint = created.signingKeyFingerprint
        }
    }
}
