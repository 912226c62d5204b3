// The card processor as a fallback chain. A charge, a refund and the look-up of a charge
// by its key all go to the first healthy link only: a charge that failed may have landed
// there, and another processor would neither know of it nor be able to refund it. A
// declined card is the processor's answer and passes as it is.
import { FallbackRunner, type FallbackGate, type FallbackLink } from '../fallback';
import {
  CardDeclinedError,
  type ChargeRequest,
  type GatewayCharge,
  type PaymentGateway,
} from './port';

export class FallbackPaymentGateway implements PaymentGateway {
  readonly name: string;
  private readonly runner: FallbackRunner<PaymentGateway>;

  constructor(links: FallbackLink<PaymentGateway>[], gate?: FallbackGate) {
    this.runner = new FallbackRunner('payments', links, gate);
    this.name = links.map((l) => l.provider).join(',');
  }

  charge(idempotencyKey: string, req: ChargeRequest): Promise<GatewayCharge> {
    return this.atFirst((g) => g.charge(idempotencyKey, req));
  }

  findCharge(idempotencyKey: string): Promise<GatewayCharge | undefined> {
    return this.atFirst((g) => g.findCharge(idempotencyKey));
  }

  refund(
    refundKey: string,
    chargeKey: string,
  ): Promise<{ status: 'refunded' | 'voided'; chargeId?: string; created: boolean }> {
    return this.atFirst((g) => g.refund(refundKey, chargeKey));
  }

  private async atFirst<T>(call: (gateway: PaymentGateway) => Promise<T>): Promise<T> {
    const isAnswer = (err: unknown) => err instanceof CardDeclinedError;
    return (await this.runner.run(call, { firstOnly: true, isAnswer })).value;
  }
}
