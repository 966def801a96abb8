// Entry point: validate config, build providers, create the parts this stack owns, export outputs.
// Every config value is validated before the first resource (a provider) is registered.
import * as pulumi from "@pulumi/pulumi";
import { ProviderRegistry } from "./common/providers";
import { loadStackSettings } from "./common/stack";
import { loadMessaging, loadOperations, MessagingSystem, partProviders } from "./messaging";
import { loadResearchSettings, ResearchEnvironment } from "./research";

const config = new pulumi.Config();
const stack = loadStackSettings(config);
const hasMessaging = stack.parts.publisher || stack.parts.subscribers.length > 0;
const messagingSelection = hasMessaging ? loadMessaging(config, stack) : undefined;
const operations = hasMessaging ? loadOperations(config) : undefined;
const researchSettings = stack.parts.research ? loadResearchSettings(config) : undefined;

const providers = new ProviderRegistry(stack.deployRoles);
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

export const messaging = messagingSystem?.outputs;
export const research = researchEnvironment?.outputs;
