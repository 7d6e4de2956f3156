import { CertificatePack } from "@cdktf/provider-cloudflare/lib/certificate-pack";
import { TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { MAX_CERTIFICATE_HOSTS } from "../config/certificates";

/** Properties of an {@link EdgeCertificatePack}. */
export interface EdgeCertificatePackProps {
  /** Cloudflare zone id, usually a reference to a sensitive Terraform variable. */
  readonly zoneId: string;

  /** Hosts of the certificate: the zone apex, then hostnames or single-label wildcards such as `*.mes.example.com`. */
  readonly hosts: readonly string[];

  /**
   * Certificate authority that issues the certificate.
   * @default "lets_encrypt"
   */
  readonly certificateAuthority?: "google" | "lets_encrypt" | "ssl_com";

  /**
   * Validity of each issued certificate, in days; Cloudflare renews it before it expires.
   * @default 90
   */
  readonly validityDays?: 14 | 30 | 90 | 365;

  /**
   * Cloudflare provider of the stack.
   * @default - the stack's default Cloudflare provider
   */
  readonly provider?: TerraformProvider;
}

/**
 * A Cloudflare Advanced Certificate Manager pack: edge certificates for
 * hostnames that Universal SSL does not cover, such as the two-level
 * `ignition.mes.example.com`. The zone needs an Advanced Certificate Manager
 * subscription.
 *
 * Cloudflare cannot change the hosts of a pack, so a new host list orders a
 * new pack. The old pack is deleted only after the new one is created.
 *
 * @example
 * ```ts
 * import { TerraformStack, TerraformVariable } from "cdktf";
 * import { EdgeCertificatePack } from "proveit-stacks";
 *
 * // A stack with the Cloudflare provider.
 * declare const stack: TerraformStack;
 *
 * const zoneId = new TerraformVariable(stack, "cloudflare_zone_id", { type: "string", sensitive: true });
 * new EdgeCertificatePack(stack, "certificates", {
 *   zoneId: zoneId.stringValue,
 *   hosts: ["example.com", "*.plant.example.com"],
 * });
 * ```
 */
export class EdgeCertificatePack extends Construct {
  /** The `cloudflare_certificate_pack` resource. */
  public readonly pack: CertificatePack;

  constructor(scope: Construct, id: string, props: EdgeCertificatePackProps) {
    super(scope, id);
    if (
      props.hosts.length === 0 ||
      props.hosts.length > MAX_CERTIFICATE_HOSTS
    ) {
      throw new Error(
        `A certificate pack needs 1 to ${MAX_CERTIFICATE_HOSTS} hosts, but ${props.hosts.length} were given; cover hostnames with single-label wildcards.`,
      );
    }

    this.pack = new CertificatePack(this, "pack", {
      provider: props.provider,
      zoneId: props.zoneId,
      type: "advanced",
      hosts: [...props.hosts],
      certificateAuthority: props.certificateAuthority ?? "lets_encrypt",
      validityDays: props.validityDays ?? 90,
      // A certificate authority validates wildcard hosts through DNS only. In a zone whose DNS Cloudflare
      // serves, Cloudflare publishes the TXT validation records itself.
      validationMethod: "txt",
      cloudflareBranding: false,
      lifecycle: { createBeforeDestroy: true },
    });
  }
}
