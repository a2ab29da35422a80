/**
 * Alert delivery: an SNS topic (Publish), an e-mail (SES v2 SendEmail from ALERT_EMAIL_FROM), or a
 * webhook (POST JSON). SDK clients are created on first use, never at import.
 */
import type { SESv2Client } from "@aws-sdk/client-sesv2";
import type { SNSClient } from "@aws-sdk/client-sns";
import type { Channel } from "./alert.sql";

/** What every channel receives about one alert. */
export type Notice = {
  id: string;
  factoryId: string;
  kind: string;
  message: string;
  value: number | null;
  limit: number | null;
  at: string;
  raisedAt: string;
};

export interface Notifier {
  send(channel: Channel, notice: Notice): Promise<void>;
}

export class DeliveryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DeliveryError";
  }
}

/** A webhook gets this long to answer; a slow receiver must not hold up the evaluation. */
const webhookTimeoutMs = 10_000;

export class ChannelNotifier implements Notifier {
  private sns?: SNSClient;
  private ses?: SESv2Client;

  constructor(
    private readonly options: {
      sns?: SNSClient;
      ses?: SESv2Client;
      /** The verified SES sender; ALERT_EMAIL_FROM by default. */
      emailFrom?: string;
      fetch?: typeof fetch;
    } = {},
  ) {
    this.sns = options.sns;
    this.ses = options.ses;
  }

  async send(channel: Channel, notice: Notice): Promise<void> {
    const subject = `Wattflow alert: ${notice.kind.replaceAll("_", " ")}`;
    if (channel.type === "webhook") {
      let response: Response;
      try {
        response = await (this.options.fetch ?? fetch)(channel.url, {
          method: "POST",
          headers: { "content-type": "application/json", "user-agent": "wattflow-alerts" },
          body: JSON.stringify(notice),
          signal: AbortSignal.timeout(webhookTimeoutMs),
        });
      } catch (error) {
        throw new DeliveryError(`webhook ${new URL(channel.url).host} unreachable: ${(error as Error).message}`, { cause: error });
      }
      if (!response.ok) throw new DeliveryError(`webhook ${new URL(channel.url).host} answered ${response.status}`);
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
