// swift-tools-version:6.0
//
// Lethe: per-tenant encrypted backups with audited, provable destruction.
//
// Modules depend one way only:
//   CLibCrypto, CSQLite        system libraries (OpenSSL 3 libcrypto, SQLite 3)
//   CLinux                     the few Linux calls Swift cannot import (variadic prctl, syncfs)
//   LetheCrypto                thin, owned wrappers around libcrypto; the only module that imports it
//   LetheStore                 files, atomic writes, the object store, SQLite connections
//   LetheS3                    the object store on an S3-compatible bucket (SigV4 over FoundationNetworking)
//   LetheKeys                  KEK epochs, the tenant keystore and its ratchet, the service signing key
//   LetheRepository            chunking, packs, trees, snapshots, index, catalog, backup, restore, verify
//   LetheCore                  tenants, lifecycle, retention, nightly run, destruction, reports, audit log
//   LetheCLI                   argument parsing and printing; `lethe` is its one-line entry point
//   LetheFuzzTargets, LetheFuzz  a fuzz target per decoder, and the program that runs them
//                              under libFuzzer (Scripts/fuzz.sh, docs/fuzzing.md); not shipped
import PackageDescription

let package = Package(
    name: "Lethe",
    products: [
        .executable(name: "lethe", targets: ["lethe"]),
    ],
    targets: [
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(name: "CLinux"),
        .target(name: "LetheCrypto", dependencies: ["CLibCrypto"]),
        .target(name: "LetheStore", dependencies: ["LetheCrypto", "CSQLite", "CLinux"]),
        .target(name: "LetheS3", dependencies: ["LetheCrypto", "LetheStore"]),
        .target(name: "LetheKeys", dependencies: ["LetheCrypto", "LetheStore"]),
        .target(name: "LetheRepository", dependencies: ["LetheCrypto", "LetheStore", "LetheKeys", "CSQLite"]),
        .target(name: "LetheCore", dependencies: ["LetheCrypto", "LetheStore", "LetheKeys", "LetheRepository", "LetheS3"]),
        .target(name: "LetheCLI", dependencies: ["LetheCrypto", "LetheStore", "LetheKeys", "LetheRepository", "LetheCore", "CLinux"]),
        .executableTarget(name: "lethe", dependencies: ["LetheCLI"]),

        .systemLibrary(name: "CLibFuzzer"),
        .target(name: "LetheFuzzTargets", dependencies: ["LetheCrypto", "LetheStore", "LetheKeys", "LetheRepository", "LetheCore", "LetheS3"]),
        .executableTarget(name: "LetheFuzz", dependencies: ["LetheFuzzTargets", "CLibFuzzer"]),

        .testTarget(name: "LetheCryptoTests", dependencies: ["LetheCrypto"], resources: [.copy("Vectors")]),
        .testTarget(name: "LetheStoreTests", dependencies: ["LetheStore"]),
        .testTarget(name: "LetheS3Tests", dependencies: ["LetheS3", "LetheStore", "LetheCrypto"], resources: [.copy("Fixtures")]),
        .testTarget(name: "LetheKeysTests", dependencies: ["LetheKeys", "LetheCrypto", "LetheStore"]),
        .testTarget(name: "LetheRepositoryTests", dependencies: ["LetheRepository", "LetheKeys", "LetheCrypto", "LetheStore"]),
        .testTarget(
            name: "LetheCoreTests", dependencies: ["LetheCore", "LetheRepository", "LetheKeys", "LetheCrypto", "LetheStore"],
            exclude: ["Fixtures"]),
        .testTarget(name: "LetheCLITests", dependencies: ["LetheCLI", "LetheCore", "LetheStore"]),
        .testTarget(name: "LetheEndToEndTests", dependencies: ["LetheCrypto", "LetheStore", "LetheRepository", "LetheCore"]),
        .testTarget(
            name: "LetheFuzzTests",
            dependencies: ["LetheFuzzTargets", "LetheCore", "LetheRepository", "LetheKeys", "LetheCrypto", "LetheStore", "LetheS3"]),
    ]
)
