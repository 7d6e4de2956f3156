import { Image } from "@cdktf/provider-docker/lib/image";
import { TerraformProvider, TerraformStack } from "cdktf";
import { Construct } from "constructs";

/**
 * The image a container runs. `fromRegistry` pulls it through a
 * `docker_image` resource, created once per stack and image. `fromLocal`
 * uses an image already loaded on the Docker host (`docker load`), for
 * products that have no public registry.
 */
export abstract class ContainerImage {
  /** An image pulled from its registry, such as `nginx:1.28.0-alpine`. */
  public static fromRegistry(name: string): ContainerImage {
    return new RegistryImage(name);
  }

  /** An image that is already on the Docker host and must not be pulled. */
  public static fromLocal(name: string): ContainerImage {
    return new LocalImage(name);
  }

  /**
   * @param name image reference with its tag or digest, such as `postgres:17.6-bookworm`
   */
  protected constructor(public readonly name: string) {}

  /** Returns the value for a container's `image` attribute, creating what the image needs in the scope's stack. */
  public abstract bind(scope: Construct, provider?: TerraformProvider): string;
}

/** The `image_id` reference of each image resource, made once: every reference costs cdktf a stack trace. */
const imageIds = new WeakMap<Image, string>();

class RegistryImage extends ContainerImage {
  constructor(name: string) {
    super(name);
  }

  public bind(scope: Construct, provider?: TerraformProvider): string {
    const stack = TerraformStack.of(scope);
    const id = `image-${this.name.replace(/[^a-zA-Z0-9]+/g, "-")}`;
    const existing = stack.node.tryFindChild(id) as Image | undefined;
    // keep_locally: another stack on the same Docker host may still run the image when this one is destroyed.
    const image =
      existing ??
      new Image(stack, id, { name: this.name, keepLocally: true, provider });
    let imageId = imageIds.get(image);
    if (imageId === undefined) {
      imageId = image.imageId;
      imageIds.set(image, imageId);
    }
    return imageId;
  }
}

class LocalImage extends ContainerImage {
  constructor(name: string) {
    super(name);
  }

  public bind(): string {
    return this.name;
  }
}
