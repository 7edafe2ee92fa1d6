#pragma once

// gRPC handlers of kelola.customer.v1.CustomerService for the directory: create, read,
// update, archive/restore, consent, erasure, data export, upcoming birthdays and price
// quotes. Each checks the request's shape and hands a command to its use case
// (app/create_customer.h, app/change_customer.h, app/read_customers.h, app/quote_price.h). Lists,
// search, duplicates, import/export, delete and merge are other classes' (served together by
// CustomerService, customer_service.h).

#include "customer-svc/app/change_customer.h"
#include "customer-svc/app/create_customer.h"
#include "customer-svc/app/read_customers.h"
#include "customer-svc/store/directory_store.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "libs/clock/clock.h"
#include "libs/ids/ids.h"
#include "libs/phone/phone_normalizer.h"

namespace kelola::customer::api {

class CustomerServiceImpl : public v1::CustomerService::Service {
 public:
  CustomerServiceImpl(store::DirectoryStore& store, const Clock& clock, ids::IdGenerator& ids,
                      const phone::PhoneNormalizer& phones)
      : store_(store),
        clock_(clock),
        create_(store, clock, ids, phones),
        change_(store, phones),
        reads_(store) {}

  grpc::Status CreateCustomer(grpc::ServerContext* context,
                              const v1::CreateCustomerRequest* request,
                              v1::CreateCustomerResponse* response) override;
  grpc::Status GetCustomer(grpc::ServerContext* context, const v1::GetCustomerRequest* request,
                           v1::GetCustomerResponse* response) override;
  grpc::Status BatchGetCustomers(grpc::ServerContext* context,
                                 const v1::BatchGetCustomersRequest* request,
                                 v1::BatchGetCustomersResponse* response) override;
  grpc::Status UpdateCustomer(grpc::ServerContext* context,
                              const v1::UpdateCustomerRequest* request,
                              v1::UpdateCustomerResponse* response) override;
  grpc::Status ArchiveCustomer(grpc::ServerContext* context,
                               const v1::ArchiveCustomerRequest* request,
                               v1::ArchiveCustomerResponse* response) override;
  grpc::Status RestoreCustomer(grpc::ServerContext* context,
                               const v1::RestoreCustomerRequest* request,
                               v1::RestoreCustomerResponse* response) override;
  grpc::Status SetMarketingConsent(grpc::ServerContext* context,
                                   const v1::SetMarketingConsentRequest* request,
                                   v1::SetMarketingConsentResponse* response) override;
  grpc::Status EraseCustomer(grpc::ServerContext* context, const v1::EraseCustomerRequest* request,
                             v1::EraseCustomerResponse* response) override;
  grpc::Status ExportCustomerData(grpc::ServerContext* context,
                                  const v1::ExportCustomerDataRequest* request,
                                  v1::ExportCustomerDataResponse* response) override;
  grpc::Status ListUpcomingBirthdays(grpc::ServerContext* context,
                                     const v1::ListUpcomingBirthdaysRequest* request,
                                     v1::ListUpcomingBirthdaysResponse* response) override;
  grpc::Status QuotePrice(grpc::ServerContext* context, const v1::QuotePriceRequest* request,
                          v1::QuotePriceResponse* response) override;

 private:
  store::DirectoryStore& store_;  // price quotes
  const Clock& clock_;
  app::CreateCustomer create_;
  app::ChangeCustomer change_;
  const app::ReadCustomers reads_;
};

}  // namespace kelola::customer::api
