namespace JobKit.Core.Hashing;

/// <summary>Which tool's content hash to reproduce; the two encode different fields and so give different suffixes.</summary>
public enum ContentHashAlgorithm
{
    /// <summary>
    /// kustomize's configMapGenerator/secretGenerator suffix (sigs.k8s.io/kustomize/api/hasher, as built into kubectl v1.32, kustomize v5.5.0).
    /// Encodes <c>{"binaryData"?,"data","kind","name":""}</c> for a ConfigMap and <c>{"data","kind","name":"","stringData"?,"type"}</c>
    /// for a Secret. The name is always empty (kustomize looks it up as one field literally called <c>metadata/name</c>), a
    /// missing <c>data</c> encodes as <c>""</c>, and <c>immutable</c>, labels and annotations are ignored.
    /// </summary>
    Kustomize,

    /// <summary>
    /// <c>kubectl create configmap|secret ... --append-hash</c> (k8s.io/kubectl/pkg/util/hash). Encodes
    /// <c>{"binaryData"?,"data","immutable"?,"kind","name"}</c> for a ConfigMap (binaryData only when non-empty) and
    /// <c>{"data","immutable"?,"kind","name","type"}</c> for a Secret, with the unsuffixed name; a null <c>data</c> encodes as
    /// <c>null</c> (kubectl create itself always starts from an empty map, which encodes as <c>{}</c>).
    /// </summary>
    Kubectl,
}
