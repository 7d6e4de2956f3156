import { CloudflareProvider } from "@cdktf/provider-cloudflare/lib/provider";
import { TerraformStack, TerraformVariable } from "cdktf";

/**
 * The Cloudflare provider and the sensitive variables of one stack, created
 * on first use, so that a stack without Cloudflare gets neither. The provider
 * reads its API token from the `CLOUDFLARE_API_TOKEN` environment variable.
 * The account and zone ids come from `TF_VAR_cloudflare_account_id` and
 * `TF_VAR_cloudflare_zone_id`. No credential is written to the configuration.
 */
export class CloudflareAccount {
  private providerElement?: CloudflareProvider;
  private accountIdVariable?: TerraformVariable;
  private zoneIdVariable?: TerraformVariable;

  /**
   * @param stack the stack the provider and variables belong to. Their ids are fixed, so a stack has one account.
   * @param domain the apex domain whose zone the zone id names, for the variable's description
   */
  constructor(
    private readonly stack: TerraformStack,
    private readonly domain: string,
  ) {}

  public get provider(): CloudflareProvider {
    this.providerElement ??= new CloudflareProvider(
      this.stack,
      "cloudflare",
      {},
    );
    return this.providerElement;
  }

  /** Reference to the `cloudflare_account_id` variable. */
  public get accountId(): string {
    this.accountIdVariable ??= new TerraformVariable(
      this.stack,
      "cloudflare_account_id",
      {
        type: "string",
        sensitive: true,
        description:
          "Cloudflare account id that owns the tunnels (set TF_VAR_cloudflare_account_id)",
      },
    );
    return this.accountIdVariable.stringValue;
  }

  /** Reference to the `cloudflare_zone_id` variable. */
  public get zoneId(): string {
    this.zoneIdVariable ??= new TerraformVariable(
      this.stack,
      "cloudflare_zone_id",
      {
        type: "string",
        sensitive: true,
        description: `Cloudflare zone id of ${this.domain} (set TF_VAR_cloudflare_zone_id)`,
      },
    );
    return this.zoneIdVariable.stringValue;
  }
}
