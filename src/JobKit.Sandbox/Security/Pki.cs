using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace JobKit.Sandbox.Security;

/// <summary>
/// The sandbox's own small certificate authority: it signs the API server's serving certificate,
/// the kubelet's serving certificate and the API server's client certificate towards kubelets,
/// the same roles a kubeadm cluster's CA plays.
/// </summary>
public static class Pki
{
    public static X509Certificate2 CreateCertificateAuthority(string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(10));
    }

    public static X509Certificate2 IssueServerCertificate(X509Certificate2 ca, string commonName, IEnumerable<string> dnsNames, IEnumerable<IPAddress> addresses)
    {
        var sans = new SubjectAlternativeNameBuilder();
        foreach (var dns in dnsNames)
        {
            sans.AddDnsName(dns);
        }
        foreach (var address in addresses)
        {
            sans.AddIpAddress(address);
        }
        return Issue(ca, $"CN={commonName}", new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication"), sans.Build());
    }

    /// <param name="organization">Kubernetes reads O= as the user's groups, e.g. system:masters or system:nodes.</param>
    public static X509Certificate2 IssueClientCertificate(X509Certificate2 ca, string commonName, string? organization = null)
    {
        var subject = organization is null ? $"CN={commonName}" : $"CN={commonName}, O={organization}";
        return Issue(ca, subject, new Oid("1.3.6.1.5.5.7.3.2", "Client Authentication"), null);
    }

    /// <summary>True when <paramref name="certificate"/> chains to <paramref name="ca"/> alone (no system trust store).</summary>
    public static bool IsIssuedBy(X509Certificate2 certificate, X509Certificate2Collection ca)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    public static string ToPem(X509Certificate2 certificate) => certificate.ExportCertificatePem();

    public static string PrivateKeyToPem(X509Certificate2 certificate) =>
        certificate.GetECDsaPrivateKey()?.ExportECPrivateKeyPem()
        ?? certificate.GetRSAPrivateKey()?.ExportRSAPrivateKeyPem()
        ?? throw new InvalidOperationException("certificate has no private key");

    private static X509Certificate2 Issue(X509Certificate2 ca, string subject, Oid usage, X509Extension? sans)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], false));
        if (sans is not null)
        {
            request.CertificateExtensions.Add(sans);
        }
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        // A certificate may not outlive its issuer.
        var notAfter = DateTimeOffset.UtcNow.AddYears(1);
        if (notAfter > ca.NotAfter)
        {
            notAfter = ca.NotAfter;
        }
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), notAfter, serial);
        using var withKey = issued.CopyWithPrivateKey(key);
        // Round-trip through PKCS#12 so that SslStream on Linux can use the ephemeral key.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable);
    }
}
