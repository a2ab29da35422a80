/**
 * Alert delivery: an SNS topic (Publish), an e-mail (SES v2 SendEmail from ALERT_EMAIL_FROM), or a
 * webhook (POST JSON, public addresses only: address.ts). SDK clients are created on first use, never at import.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { SESv2Client } from "@aws-sdk/client-sesv2";
import type { SNSClient } from "@aws-sdk/client-sns";
import { webhookTimeoutMs } from "../config";
import { UnavailableError } from "../util/error";
import { BlockedAddressError, checkedLookup, type Resolver, urlRefusal } from "./address";
import type { Channel } from "./alert.sql";

/**
 * What every channel receives about one alert: `message` in English; `code` and `params` say the same for a client
 * to word in its own language (AlertRules.Finding), null on alerts raised before they existed.
 */
export type Notice = {
  id: string;
  factoryId: string;
  kind: string;
  message: string;
  code: string | null;
  params: Record<string, string | number> | null;
  value: number | null;
  limit: number | null;
  at: string;
  raisedAt: string;
};

export interface Notifier {
  send(channel: Channel, notice: Notice): Promise<void>;
}

export class DeliveryError extends UnavailableError {
  readonly code = "alert.delivery_failed";
  override readonly name = "DeliveryError";
}

/**
 * POSTs `body` to `url` and answers the response's status. The URL is checked again as when the rule was saved
 * (urlRefusal: a rule stored before a check existed gets it now), then the connection goes only to an address
 * `resolve` answered and refusal() accepted (checkedLookup). Redirects are not followed: a 3xx is an answer like
 * any other non-2xx, so a public host cannot send the request on to an internal one.
 * @throws BlockedAddressError when the URL or an address its name resolves to is not public.
 */
function post(url: URL, body: string, resolve: Resolver | undefined): Promise<number> {
  const refused = urlRefusal(url.href);
  if (refused) return Promise.reject(new BlockedAddressError(refused));
  return new Promise((done, reject) => {
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const request = send(
      url,
      {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), "user-agent": "wattflow-alerts" },
        lookup: checkedLookup(resolve),
        timeout: webhookTimeoutMs,
      },
      (response) => {
        response.resume();
        done(response.statusCode ?? 0);
      },
    );
    request.on("timeout", () => request.destroy(new Error("timed out")));
    request.on("error", reject);
    request.end(body);
  });
}

/**
 * How a delivery error names its channel: the channel's type and where it goes, as the organization wrote it
 * (a webhook by its host only: a URL's path and query often carry a secret token).
 * @example channelName({ type: "webhook", url: "https://hooks.example.com/T0/B0/secret" }) // "webhook hooks.example.com"
 */
export function channelName(channel: Channel): string {
  if (channel.type === "webhook") return `webhook ${URL.canParse(channel.url) ? new URL(channel.url).hostname : JSON.stringify(channel.url.slice(0, 100))}`;
  return channel.type === "sns" ? `sns ${channel.topicArn}` : `email ${channel.to}`;
}

export class ChannelNotifier implements Notifier {
  private sns?: SNSClient;
  private ses?: SESv2Client;

  constructor(
    private readonly options: {
      sns?: SNSClient;
      ses?: SESv2Client;
      /** The verified SES sender; ALERT_EMAIL_FROM by default. */
      emailFrom?: string;
      /** Resolves webhook hosts (the system resolver by default); every answer is checked before connecting. */
      resolve?: Resolver;
    } = {},
  ) {
    this.sns = options.sns;
    this.ses = options.ses;
  }

  async send(channel: Channel, notice: Notice): Promise<void> {
    const subject = `Wattflow alert: ${notice.kind.replaceAll("_", " ")}`;
    if (channel.type === "webhook") {
      let status: number;
      try {
        status = await post(new URL(channel.url), JSON.stringify(notice), this.options.resolve);
      } catch (error) {
        // Stored and shown to the organization: why an address was refused (its kind, never the address), else no
        // port or socket error that would map our network.
        if (error instanceof BlockedAddressError) throw new DeliveryError(`refused: ${error.reason}`, { cause: error });
        throw new DeliveryError("failed", { cause: error });
      }
      if (status < 200 || status >= 300) throw new DeliveryError(`failed (HTTP ${status})`);
      return;
    }
    if (channel.type === "sns") {
      const { PublishCommand, SNSClient } = await import("@aws-sdk/client-sns");
      this.sns ??= new SNSClient({});
      await this.sns.send(new PublishCommand({ TopicArn: channel.topicArn, Subject: subject.slice(0, 100), Message: JSON.stringify(notice) }));
      return;
    }
    const from = this.options.emailFrom ?? process.env.ALERT_EMAIL_FROM;
    if (!from) throw new DeliveryError("e-mail alerts need ALERT_EMAIL_FROM (a verified SES sender)");
    const { SendEmailCommand, SESv2Client } = await import("@aws-sdk/client-sesv2");
    this.ses ??= new SESv2Client({});
    await this.ses.send(
      new SendEmailCommand({
        FromEmailAddress: from,
        Destination: { ToAddresses: [channel.to] },
        Content: { Simple: { Subject: { Data: subject }, Body: { Text: { Data: `${notice.message}\n\nFactory ${notice.factoryId}, at ${notice.at}.` } } } },
      }),
    );
  }
}
