// Entry point: validate config, build providers, create the parts this stack owns, export outputs.
// Every config value is validated before the first resource (a provider) is registered, and every
// problem of the config is reported at once.
import * as pulumi from "@pulumi/pulumi";
import { collectProblems, ConfigProblem, throwIfProblems } from "./common/config-error";
import { ProviderRegistry } from "./common/providers";
import { checkStackSettings } from "./common/stack";
import {
  checkMessaging,
  loadOperations,
  MessagingSelection,
  MessagingSystem,
  partProviders,
} from "./messaging";
import { checkResearchSettings, ResearchEnvironment, ResearchSettings } from "./research";

const config = new pulumi.Config();
const problems: ConfigProblem[] = [];
const stackCheck = checkStackSettings(config, Object.keys(pulumi.runtime.allConfig()));
problems.push(...stackCheck.problems);
const stack = stackCheck.value;
const hasMessaging = stack !== undefined && (stack.parts.publisher || stack.parts.subscribers.length > 0);
let messagingSelection: MessagingSelection | undefined;
let researchSettings: ResearchSettings | undefined;
if (stack && hasMessaging) {
  const checked = checkMessaging(config, stack);
  problems.push(...checked.problems);
  messagingSelection = checked.value;
}
const operations = hasMessaging ? collectProblems(problems, () => loadOperations(config)) : undefined;
if (stack?.parts.research) {
  const checked = checkResearchSettings(config);
  problems.push(...checked.problems);
  researchSettings = checked.value;
}
throwIfProblems(problems);

const providers = new ProviderRegistry(stack!.deployRoles);
const providerFor = (account: string, region: string) => providers.providerFor(account, region);

const messagingSystem =
  messagingSelection && operations
    ? new MessagingSystem("messaging", {
        selection: messagingSelection,
        providers: partProviders(messagingSelection, providerFor),
        operations,
        stack: pulumi.getStack(),
        providerFor,
      })
    : undefined;

const researchEnvironment = researchSettings
  ? new ResearchEnvironment("research", researchSettings, {
      provider: providerFor(researchSettings.account, researchSettings.region),
    })
  : undefined;

// Only what this stack has: an export whose value is undefined is still a stack output, which the
// Pulumi CLI warns about on every update.
export = {
  ...(messagingSystem ? { messaging: messagingSystem.outputs } : {}),
  ...(researchEnvironment ? { research: researchEnvironment.outputs } : {}),
};
