import type { Profile } from "../core/types.js";

/** How strictly configuration is read. */
export interface LoadOptions {
  /** `strict` also rejects unknown keys in policy files and semantic mistakes in actions. */
  profile: Profile;
  /** `validate --strict`: unknown keys are errors in every file. */
  strictKeys: boolean;
}
