using OpsTools.TestKit;

namespace OpsTools.Module.Tests;

/// <summary>
/// Tests that need a Docker engine share one (see DockerEngine: Debian's dockerd started by the tests, or the one
/// OPSTOOLS_TEST_DOCKER_HOST names) and run one class at a time; each test works in its own Compose project.
/// </summary>
[CollectionDefinition("Docker")]
public sealed class DockerCollection : ICollectionFixture<DockerEngineFixture> { }
